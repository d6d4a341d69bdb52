/**
 * A local stand-in for Slack: the Web API (`SLACK_API_URL` points here) and `response_url`
 * endpoints. It records every call as the bot made it — method, token, arguments with
 * `blocks` and `view` decoded — and answers the way Slack does, including scripted failures
 * (a platform error such as `not_in_channel`, a 429 with `Retry-After`, a 500).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as it reached the fake. */
export interface SlackApiCall {
  readonly method: string;
  readonly token: string | undefined;
  readonly args: Record<string, unknown>;
  /** The HTTP status the fake answered with. */
  readonly status: number;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
  /** Whether the fake answered `ok: true`. */
  readonly ok: boolean;
}

/** One post to a `response_url`. */
export interface ResponseUrlPost {
  readonly id: string;
  readonly body: Record<string, unknown>;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
}

/** A scripted answer for the next call to a method. */
export type SlackFailure = { readonly error: string } | { readonly status: 429; readonly retryAfter: number } | { readonly status: 500 };

/** The running fake. */
export interface FakeSlack {
  /** The Web API base URL, ending in `/api/`. */
  readonly apiUrl: string;
  /** A `response_url` the fake records posts to. */
  responseUrl(id: string): string;
  readonly calls: SlackApiCall[];
  readonly responses: ResponseUrlPost[];
  /** File bodies uploaded to the URLs `files.getUploadURLExternal` handed out. */
  readonly uploads: { readonly fileId: string; readonly bytes: number }[];
  /** Calls to `method` that Slack answered `ok: true`. */
  callsTo(method: string): SlackApiCall[];
  /** Posts to the `response_url` with this id. */
  responsesTo(id: string): ResponseUrlPost[];
  /** Every `chat.postMessage` and file upload into `channel` fails with the Slack error `error`. */
  refuseChannel(channel: string, error: string): void;
  /** The next call to `method` fails as given (queue several by calling again). */
  failNext(method: string, failure: SlackFailure): void;
  /** The next post to `response_url` `id` gets this HTTP status (queue several by calling again). */
  failResponseUrl(id: string, status: number): void;
  /** Every later successful call to `method` is answered with `body` instead of the default (e.g. `apps.connections.open` with a Socket Mode URL). */
  setAnswer(method: string, body: Record<string, unknown>): void;
  /** Resolves with `check()`'s first defined value, polling; rejects after `timeoutMs`. */
  waitFor<T>(check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export const FAKE_BOT_USER_ID = 'UFINOPSBOT';
export const FAKE_BOT_ID = 'BFINOPS01';
export const FAKE_TEAM_ID = 'T0FAKE001';

/** Starts the fake on a free port. */
export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackApiCall[] = [];
  const responses: ResponseUrlPost[] = [];
  const failures = new Map<string, SlackFailure[]>();
  const responseFailures = new Map<string, number[]>();
  const uploads: { fileId: string; bytes: number }[] = [];
  const refusedChannels = new Map<string, string>();
  let baseUrl = '';
  const answers = new Map<string, Record<string, unknown>>();
  let nextTs = 1_700_000_000;

  const server: Server = createServer((request, response) => {
    void readBody(request).then((raw) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (url.pathname.startsWith('/upload/')) {
        uploads.push({ fileId: decodeURIComponent(url.pathname.slice('/upload/'.length)), bytes: Buffer.byteLength(raw, 'latin1') });
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(`OK - ${raw.length}`);
        return;
      }
      if (url.pathname.startsWith('/response/')) {
        const id = decodeURIComponent(url.pathname.slice('/response/'.length));
        const status = responseFailures.get(id)?.shift();
        if (status !== undefined) {
          send(status, { ok: false, error: 'expired_url' });
          return;
        }
        responses.push({ id, body: JSON.parse(raw || '{}') as Record<string, unknown>, at: Date.now() });
        send(200, { ok: true });
        return;
      }
      const method = url.pathname.replace(/^\/api\//, '');
      const args = parseArgs(raw, request.headers['content-type'] ?? '');
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
      const refusal = refusedChannels.get(String(args.channel ?? args.channel_id ?? ''));
      const failure: SlackFailure | undefined = refusal && ['chat.postMessage', 'files.completeUploadExternal'].includes(method) ? { error: refusal } : failures.get(method)?.shift();
      if (failure && 'status' in failure) {
        calls.push({ method, token, args, status: failure.status, at: Date.now(), ok: false });
        if (failure.status === 429) send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfter) });
        else send(500, { ok: false, error: 'internal_error' });
        return;
      }
      calls.push({ method, token, args, status: 200, at: Date.now(), ok: !failure });
      if (failure) {
        send(200, { ok: false, error: failure.error });
        return;
      }
      send(200, answers.get(method) ?? answer(method, args, () => `${nextTs++}.000100`, baseUrl));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  baseUrl = base;
  return {
    uploads,
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/response/${encodeURIComponent(id)}`,
    calls,
    responses,
    callsTo: (method) => calls.filter((call) => call.method === method && call.ok),
    responsesTo: (id) => responses.filter((post) => post.id === id),
    refuseChannel: (channel, error) => refusedChannels.set(channel, error),
    failNext: (method, failure) => failures.set(method, [...(failures.get(method) ?? []), failure]),
    failResponseUrl: (id, status) => responseFailures.set(id, [...(responseFailures.get(id) ?? []), status]),
    setAnswer: (method, body) => answers.set(method, body),
    waitFor: async <T>(check: () => T | undefined | false, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error('the fake Slack did not see what the test waited for');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let nextFile = 1;

function answer(method: string, args: Record<string, unknown>, ts: () => string, base: string): Record<string, unknown> {
  switch (method) {
    case 'files.getUploadURLExternal': {
      const fileId = `F0FAKE${String(nextFile++).padStart(4, '0')}`;
      return { ok: true, upload_url: `${base}/upload/${fileId}`, file_id: fileId };
    }
    case 'files.completeUploadExternal': {
      const files = JSON.parse(String(args.files ?? '[]')) as { id: string; title?: string }[];
      return { ok: true, files: files.map((file) => ({ id: file.id, title: file.title ?? '' })) };
    }
    case 'auth.test':
      return { ok: true, url: 'https://fake.slack.test/', team: 'Fake Team', user: 'finops', team_id: FAKE_TEAM_ID, user_id: FAKE_BOT_USER_ID, bot_id: FAKE_BOT_ID };
    case 'chat.postMessage':
      return { ok: true, channel: args.channel, ts: ts(), message: { text: args.text } };
    case 'chat.postEphemeral':
      return { ok: true, message_ts: ts() };
    case 'chat.startStream':
      return { ok: true, channel: args.channel, ts: ts() };
    case 'chat.appendStream':
    case 'chat.stopStream':
      return { ok: true, channel: args.channel, ts: args.ts };
    case 'views.publish':
      return { ok: true, view: { id: 'V0FAKE', type: 'home' } };
    default:
      return { ok: true };
  }
}

/** The Web API client sends forms with `blocks`/`view` as JSON strings; some calls send JSON. */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(raw || '{}') as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = (key === 'blocks' || key === 'view' || key === 'attachments') && /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
