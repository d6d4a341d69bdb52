/**
 * Requests as Slack sends them: slash commands and interactivity as signed forms, Events
 * API callbacks as signed JSON. The signature is computed the documented way (v0, HMAC-SHA256
 * over `v0:timestamp:body`), which the signing test vector in ../shared/datasets checks.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';

/** The signing secret the tests configure the bot with. */
export const TEST_SIGNING_SECRET = 'e2e0f3c1a9d84b7f9c6e5d4c3b2a1f00';
/** The bot token the tests configure the bot with. */
export const TEST_BOT_TOKEN = 'xoxb-1111-2222-testtokenNOTREAL';

/** The bot's Slack environment for tests: the test token and secret, and the fake Slack's Web API. */
export function slackTestEnv(apiUrl: string): Record<string, string> {
  return { SLACK_BOT_TOKEN: TEST_BOT_TOKEN, SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET, SLACK_API_URL: apiUrl };
}

/** `v0=…`: Slack's signature of `body` sent at `timestamp` (seconds). */
export function slackSignature(secret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** A request body with its content type. */
export interface SlackBody {
  readonly body: string;
  readonly contentType: string;
}

/** A `/finops` invocation as Slack posts it. */
export function slashCommand(options: { text: string; responseUrl: string; userId?: string; channelId?: string; triggerId?: string }): SlackBody {
  const form = new URLSearchParams({
    token: 'verification-token-not-used',
    team_id: 'T0FAKE001',
    team_domain: 'fake',
    channel_id: options.channelId ?? 'C0COSTS01',
    channel_name: 'costs',
    user_id: options.userId ?? 'U0ALICE01',
    user_name: 'alice',
    command: '/finops',
    text: options.text,
    api_app_id: 'A0FINOPS1',
    is_enterprise_install: 'false',
    response_url: options.responseUrl,
    trigger_id: options.triggerId ?? newTriggerId(),
  });
  return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
}

/** A click on a button of an ephemeral reply, as the `block_actions` interactivity payload. */
export function buttonClick(options: { actionId: string; value: string; responseUrl: string; messageTs?: string; userId?: string; channelId?: string; triggerId?: string }): SlackBody {
  const channel = options.channelId ?? 'C0COSTS01';
  const payload = {
    type: 'block_actions',
    user: { id: options.userId ?? 'U0ALICE01', username: 'alice', name: 'alice', team_id: 'T0FAKE001' },
    api_app_id: 'A0FINOPS1',
    token: 'verification-token-not-used',
    container: { type: 'message', message_ts: options.messageTs ?? '1700000000.000100', channel_id: channel, is_ephemeral: true },
    trigger_id: options.triggerId ?? newTriggerId(),
    team: { id: 'T0FAKE001', domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'costs' },
    state: { values: {} },
    response_url: options.responseUrl,
    actions: [
      { action_id: options.actionId, block_id: 'actions', text: { type: 'plain_text', text: 'Share in channel', emoji: true }, value: options.value, style: 'primary', type: 'button', action_ts: '1700000001.000200' },
    ],
  };
  return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: 'application/x-www-form-urlencoded' };
}

/** An Events API `event_callback` envelope around `event`. */
export function eventCallback(event: Record<string, unknown>, eventId = `Ev${randomBytes(5).toString('hex').toUpperCase()}`): SlackBody & { eventId: string } {
  const envelope = {
    token: 'verification-token-not-used',
    team_id: 'T0FAKE001',
    api_app_id: 'A0FINOPS1',
    event: { event_ts: '1700000000.000300', ...event },
    type: 'event_callback',
    event_id: eventId,
    event_time: 1_700_000_000,
    authorizations: [{ enterprise_id: null, team_id: 'T0FAKE001', user_id: 'UFINOPSBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
  return { body: JSON.stringify(envelope), contentType: 'application/json', eventId };
}

/** What came back from the bot. */
export interface SlackPostResult {
  readonly status: number;
  readonly body: string;
}

/** Options for {@link postToSlackRoute}. */
export interface PostOptions {
  /** Seconds since the epoch to sign with; now by default. */
  readonly timestamp?: number;
  /** Sign with this secret instead of the test one (a forgery). */
  readonly secret?: string;
  /** Send no signature headers at all. */
  readonly unsigned?: boolean;
  /** How the timestamp header spells the signed timestamp (a number Bolt reads the same, spelled differently). */
  readonly timestampHeader?: (timestamp: number) => string;
  readonly headers?: Record<string, string>;
  readonly agent?: Agent;
}

/** Posts a Slack request to `url`, signed unless told otherwise. */
export function postToSlackRoute(url: string, request: SlackBody, options: PostOptions = {}): Promise<SlackPostResult> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': request.contentType, 'content-length': String(Buffer.byteLength(request.body)), ...options.headers };
  if (!options.unsigned) {
    const header = options.timestampHeader ? options.timestampHeader(timestamp) : String(timestamp);
    headers['x-slack-request-timestamp'] = header;
    // Bolt signs what Number() makes of the header, so that is what a forger would sign.
    headers['x-slack-signature'] = slackSignature(options.secret ?? TEST_SIGNING_SECRET, String(Number(header)), request.body);
  }
  return new Promise((resolve, reject) => {
    const sent = httpRequest(url, { method: 'POST', headers, ...(options.agent ? { agent: options.agent } : {}) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(request.body);
  });
}

function newTriggerId(): string {
  return `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`;
}
