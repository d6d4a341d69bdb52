/**
 * The Slack channel: a Bolt app that turns `/finops`, mentions, direct messages, button
 * clicks and App Home visits into calls to the command engine, and posts the rendered
 * replies back. Over HTTP it mounts on the bot's own server at `POST /slack/events` (one
 * Request URL for commands, interactivity and events); with an app-level token it uses
 * Socket Mode instead. Nothing here calls Slack while it is being built: the bot's identity
 * (`auth.test`) is looked up when the channel starts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, type Receiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { AlertNotifier, ApproverDirectory, DeliveryLedger, DigestNotifier } from '../../ports.js';
import type { RouteHandler } from '../http/http-server.js';
import { WorkQueue } from '../work-queue.js';
import { registerSlackListeners, type SlackAnomalyDesk, type SlackEngine } from './slack-listeners.js';
import { SlackAlertNotifier } from './slack-alerts.js';
import { registerRightsizingListeners, SlackApproverDirectory, type SlackRightsizingDesk } from './slack-rightsizing.js';
import { slackLogger } from './slack-logger.js';
import { SlackDigestNotifier } from './slack-notifier.js';

/** The route Slack posts to (commands, interactivity and events alike). */
export const SLACK_EVENTS_PATH = '/slack/events';

/** Slack's limit on how far a request's timestamp may be from now, in seconds. */
const TIMESTAMP_TOLERANCE_S = 5 * 60;

/** Answers worked on at once: enough to overlap database round trips, few enough that a burst is acknowledged first. */
const DEFAULT_ANSWER_CONCURRENCY = 4;
/** Conversations mostly wait on the model, not the database: more of them at once. */
const DEFAULT_CONVERSATION_CONCURRENCY = 8;

/** The deadline of every call to Slack (Web API and `response_url`). */
const SLACK_CALL_TIMEOUT_MS = 10_000;

/** How long after a failed `auth.test` the next one may be tried. */
const IDENTITY_RETRY_MS = 60_000;

/** How long stopping waits for acknowledged requests to be answered. */
const DRAIN_TIMEOUT_MS = 10_000;

/** What the Slack channel needs. */
export interface SlackChannelOptions {
  readonly botToken: string;
  /** Verifies HTTP requests; required unless `appToken` selects Socket Mode. */
  readonly signingSecret?: string | undefined;
  /** An app-level token (`xapp-…`): connect over Socket Mode instead of serving HTTP. */
  readonly appToken?: string | undefined;
  /** Web API base URL (GovSlack, tests); Slack's own by default. */
  readonly apiUrl?: string | undefined;
  readonly engine: SlackEngine;
  /** Takes the clicks on anomaly alerts. */
  readonly anomalies?: SlackAnomalyDesk | undefined;
  /** Takes Approve / Reject on rightsizing recommendations. */
  readonly rightsizing?: SlackRightsizingDesk | undefined;
  readonly deliveries: DeliveryLedger;
  readonly logger: Logger;
  /** Retries of a failed Web API call (429s wait for their `Retry-After` first). */
  readonly webApiRetries?: number;
  /** How many answers are worked on at once (requests are always acknowledged at once). */
  readonly answerConcurrency?: number;
  /** How many mentions, direct messages and thread replies (AI answers among them) are worked on at once. */
  readonly conversationConcurrency?: number;
  /** Reads the time, in milliseconds, for the request-timestamp check. */
  readonly now?: () => number;
}

/** A running (or ready to run) Slack channel. */
export interface SlackChannel {
  readonly mode: 'http' | 'socket';
  /** The handler for `POST /slack/events` in HTTP mode; undefined in Socket Mode. */
  readonly route: RouteHandler | undefined;
  /** Posts digests into channels with the bot token. */
  readonly notifier: DigestNotifier;
  /** Posts and updates anomaly alerts with the bot token. */
  readonly alerts: AlertNotifier;
  /** Reads user groups' members, for the rightsizing approver check. */
  readonly directory: ApproverDirectory;
  /** Looks up the bot's identity and, in Socket Mode, connects. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the Slack app without calling Slack. */
export function createSlackChannel(options: SlackChannelOptions): SlackChannel {
  const secrets = [options.botToken, options.signingSecret, options.appToken].filter((value): value is string => Boolean(value));
  const boltLogger = slackLogger(options.logger, secrets);
  const clientOptions = {
    ...(options.apiUrl ? { slackApiUrl: withTrailingSlash(options.apiUrl) } : {}),
    retryConfig: { retries: options.webApiRetries ?? 3, factor: 2, minTimeout: 500, maxTimeout: 5_000, randomize: true },
    timeout: SLACK_CALL_TIMEOUT_MS,
    // Bolt posts to `response_url` with this fetch too, which has no deadline of its own.
    fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(SLACK_CALL_TIMEOUT_MS) }),
  };
  const socketMode = Boolean(options.appToken);
  let receiver: Receiver;
  let httpReceiver: HTTPReceiver | undefined;
  if (options.appToken) {
    // The socket client keeps its own, much longer, retry policy for reconnecting.
    const { retryConfig: _interactiveRetries, ...socketClientOptions } = clientOptions;
    receiver = new SocketModeReceiver({ appToken: options.appToken, logger: boltLogger, installerOptions: { clientOptions: socketClientOptions } });
  } else {
    if (!options.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required for Slack over HTTP');
    httpReceiver = new HTTPReceiver({ signingSecret: options.signingSecret, endpoints: SLACK_EVENTS_PATH, logger: boltLogger, processBeforeResponse: false });
    receiver = httpReceiver;
  }
  // One client with the bot token: the identity lookup and digests use it; Bolt makes its own per request.
  const client = new webApi.WebClient(options.botToken, clientOptions);
  const identity = new BotIdentity(client, options.botToken, options.logger);
  const app = new App({
    receiver,
    authorize: () => identity.authorization(),
    logger: boltLogger,
    clientOptions,
    convoStore: false,
  });
  app.error(async (error) => {
    options.logger.error({ err: error, component: 'slack' }, 'Slack listener failed');
  });
  const answers = new WorkQueue(options.answerConcurrency ?? DEFAULT_ANSWER_CONCURRENCY);
  const conversations = new WorkQueue(options.conversationConcurrency ?? DEFAULT_CONVERSATION_CONCURRENCY);
  registerSlackListeners(app, { engine: options.engine, anomalies: options.anomalies, deliveries: options.deliveries, logger: options.logger, answers, conversations });
  registerRightsizingListeners(app, { desk: options.rightsizing, logger: options.logger, answers, fetch: (url, init) => clientOptions.fetch(url, init) });
  const now = options.now ?? Date.now;
  let stopping = false;
  return {
    mode: socketMode ? 'socket' : 'http',
    notifier: new SlackDigestNotifier(client),
    alerts: new SlackAlertNotifier(client),
    directory: new SlackApproverDirectory(client),
    route: httpReceiver ? guardSlackRoute(httpReceiver.requestListener, { now, logger: options.logger, stopping: () => stopping }) : undefined,
    start: async () => {
      identity.lookUp();
      if (socketMode) await app.start();
    },
    stop: async () => {
      // Take nothing new (Slack retries events elsewhere), then let acknowledged work finish:
      // Slack will not send it again.
      stopping = true;
      if (socketMode) await app.stop();
      const [commandsDone, conversationsDone] = await Promise.all([answers.idle(DRAIN_TIMEOUT_MS), conversations.idle(DRAIN_TIMEOUT_MS)]);
      if (!commandsDone || !conversationsDone) {
        options.logger.warn({ component: 'slack', commands: answers.size, conversations: conversations.size }, 'stopped with Slack answers unfinished');
      }
    },
  };
}

/**
 * Adds what Bolt's verification lacks: it refuses stale timestamps but not ones far in the
 * future, which would let a captured request be replayed later. Everything else (missing
 * or wrong signatures, stale timestamps, `ssl_check`, `url_verification`) is Bolt's.
 */
function guardSlackRoute(
  listener: (request: IncomingMessage, response: ServerResponse) => void,
  options: { now: () => number; logger: Logger; stopping: () => boolean },
): RouteHandler {
  const refuse = (request: IncomingMessage, response: ServerResponse, status: number, headers: Record<string, string> = {}) => {
    request.resume();
    response.writeHead(status, headers).end();
  };
  return (request, response) => {
    if (request.method !== 'POST') return refuse(request, response, 405, { allow: 'POST' });
    // Shutting down: Slack retries an unanswered event, and the ALB sends it elsewhere.
    if (options.stopping()) return refuse(request, response, 503, { 'retry-after': '1' });
    const timestamp = request.headers['x-slack-request-timestamp'];
    // Bolt reads the header with Number(), which also takes "T.0", "+T" or "0x…": only plain
    // digits are allowed, so the future check below cannot be stepped around.
    if (timestamp !== undefined && (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp))) return refuse(request, response, 401);
    if (timestamp !== undefined && Number(timestamp) > options.now() / 1000 + TIMESTAMP_TOLERANCE_S) {
      options.logger.warn({ component: 'slack' }, 'refused a Slack request whose timestamp is more than 5 minutes in the future');
      return refuse(request, response, 401);
    }
    listener(request, response);
  };
}

/**
 * The bot's user and bot ids, looked up once with `auth.test` (again a minute after a
 * failure). Requests never wait on it: Bolt authorizes before the acknowledgement, and
 * without the ids the bot still answers; it only cannot tell its own messages apart, which
 * the listeners check for themselves.
 */
class BotIdentity {
  private known: { botId?: string; botUserId?: string } | undefined;
  private looking = false;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly token: string,
    private readonly logger: Logger,
  ) {}

  /** Starts an `auth.test` unless the ids are known, one is under way, or one failed a minute ago. */
  lookUp(): void {
    if (this.known || this.looking || Date.now() - this.failedAt < IDENTITY_RETRY_MS) return;
    this.looking = true;
    this.client.auth
      .test({ token: this.token })
      .then(
        (result) => {
          this.known = { ...(result.bot_id ? { botId: result.bot_id } : {}), ...(result.user_id ? { botUserId: result.user_id } : {}) };
          this.logger.info({ component: 'slack', botUserId: this.known.botUserId, team: result.team }, 'connected to Slack');
        },
        (error: unknown) => {
          this.failedAt = Date.now();
          this.logger.warn({ component: 'slack', err: error }, 'could not look up the bot identity with auth.test; will try again in a minute');
        },
      )
      .finally(() => (this.looking = false));
  }

  async authorization(): Promise<{ botToken: string; botId?: string; botUserId?: string }> {
    this.lookUp();
    return { botToken: this.token, ...this.known };
  }
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
