/**
 * A local stand-in for the Amazon Bedrock Runtime endpoint, so the real SDK client (its
 * HTTP/2 handler, signing, restJson protocol, event-stream decoding, error parsing and
 * retries) can be exercised without AWS: point AWS_ENDPOINT_URL_BEDROCK_RUNTIME (or the
 * client's endpoint) at `url`.
 *
 * It speaks plaintext HTTP/2 (h2c, which the SDK uses for http:// endpoints) and serves
 * `POST /model/{modelId}/converse` as JSON and `POST /model/{modelId}/converse-stream` as
 * `application/vnd.amazon.eventstream` frames, each answer taken from a script of turns.
 * Errors look like AWS's (`x-amzn-errortype` header, `{"message"}` body) so the SDK builds
 * the right exception class. Used by tests only (no vitest here).
 */
import { createServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

/** One tool call the fake model makes. */
export interface FakeToolUse {
  /** Default: `tooluse_<n>`. */
  readonly id?: string;
  readonly name: string;
  readonly input: unknown;
}

/** Exception types Bedrock can send inside a ConverseStream answer. */
export type FakeStreamExceptionType =
  | 'throttlingException'
  | 'serviceUnavailableException'
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'validationException';

/** One model turn, served to whichever endpoint asks next. */
export interface FakeTurn {
  /** Answer text (streamed as several small deltas). */
  readonly text?: string;
  /** Tool calls after the text (streamed input split into several JSON fragments). */
  readonly toolUses?: readonly FakeToolUse[];
  /** Default: 'tool_use' when there are tool uses, else 'end_turn'. */
  readonly stopReason?: string;
  readonly usage?: {
    readonly inputTokens?: number;
    readonly outputTokens?: number;
    readonly cacheReadInputTokens?: number;
    readonly cacheWriteInputTokens?: number;
  };
  /** Streaming only: after `afterEvents` events (default 2), send this exception and end the stream. */
  readonly streamException?: { readonly type: FakeStreamExceptionType; readonly message?: string; readonly afterEvents?: number };
  /** Streaming only: send this many events, then nothing more while keeping the stream open. */
  readonly stallAfterEvents?: number;
}

/** A request the fake received (failed ones included), in arrival order. */
export interface ReceivedRequest {
  readonly path: string;
  /** Decoded from the path: a model id, inference profile id or ARN. */
  readonly modelId: string;
  readonly stream: boolean;
  /** The decoded JSON body. */
  readonly body: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A running fake endpoint. */
export interface FakeBedrock {
  /** Base URL, e.g. "http://127.0.0.1:49152". */
  readonly url: string;
  /** Live list of received requests. */
  readonly requests: ReceivedRequest[];
  /** Appends turns to the script; each request takes the next one. */
  script(...turns: FakeTurn[]): void;
  /** Answers the next `times` requests (default 1) with an AWS error of `errorType` and `status`, taking no turn. */
  failNext(status: number, errorType: string, times?: number): void;
  /** Stops listening and destroys open sessions. */
  close(): Promise<void>;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

/** Starts the fake endpoint on 127.0.0.1 with an OS-chosen port. */
export async function startFakeBedrock(): Promise<FakeBedrock> {
  const requests: ReceivedRequest[] = [];
  const turns: FakeTurn[] = [];
  const failures: { status: number; errorType: string }[] = [];
  const sessions = new Set<Http2Session>();
  let counter = 0;

  const handle = async (req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> => {
    const requestId = `fake-bedrock-${++counter}`;
    const text = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    const route = ROUTE.exec(path);
    if (req.method !== 'POST' || route === null) {
      return sendError(res, requestId, 404, 'UnknownOperationException', `fake-bedrock: no operation at ${req.method} ${path}`);
    }
    const stream = route[2] === 'converse-stream';
    requests.push({ path, modelId: decodeURIComponent(route[1]!), stream, body: parseBody(text), headers: { ...req.headers } });
    const failure = failures.shift();
    if (failure) return sendError(res, requestId, failure.status, failure.errorType, `fake-bedrock: scripted ${failure.errorType}`);
    const turn = turns.shift();
    if (turn === undefined) {
      const message = `fake-bedrock: the script has no turn left for request #${requests.length} (POST ${path})`;
      return sendError(res, requestId, 500, 'InternalServerException', message);
    }
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
      res.end(JSON.stringify(converseOutput(turn)));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId });
    const events = streamEvents(turn);
    const exception = turn.streamException;
    const cut = Math.min(exception ? (exception.afterEvents ?? 2) : events.length, turn.stallAfterEvents ?? events.length);
    for (const [type, body] of events.slice(0, cut)) {
      res.write(frame({ ':event-type': str(type), ':message-type': str('event'), ':content-type': str('application/json') }, body));
      await new Promise((resolve) => setImmediate(resolve)); // so the client sees the deltas one by one
    }
    if (turn.stallAfterEvents !== undefined) return; // left open until the client gives up or close()
    if (exception) {
      const headers = { ':exception-type': str(exception.type), ':message-type': str('exception'), ':content-type': str('application/json') };
      res.write(frame(headers, { message: exception.message ?? `fake-bedrock: scripted ${exception.type}` }));
    }
    res.end();
  };

  const server = createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('request', (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 'fake-bedrock-error', 500, 'InternalServerException', `fake-bedrock failed: ${String(error)}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(...more) {
      turns.push(...more);
    },
    failNext(status, errorType, times = 1) {
      for (let i = 0; i < times; i++) failures.push({ status, errorType });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const session of sessions) session.destroy();
      }),
  };
}

const str = (value: string) => ({ type: 'string' as const, value });

function frame(headers: MessageHeaders, body: unknown): Uint8Array {
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(body)) });
}

function toolUseId(turn: FakeTurn, index: number): string {
  return turn.toolUses?.[index]?.id ?? `tooluse_${index + 1}`;
}

function usageOf(turn: FakeTurn) {
  const inputTokens = turn.usage?.inputTokens ?? 10;
  const outputTokens = turn.usage?.outputTokens ?? 5;
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, ...turn.usage };
}

function stopReasonOf(turn: FakeTurn): string {
  return turn.stopReason ?? ((turn.toolUses?.length ?? 0) > 0 ? 'tool_use' : 'end_turn');
}

/** The Converse response body for a turn. */
function converseOutput(turn: FakeTurn): unknown {
  const content = [
    ...(turn.text === undefined ? [] : [{ text: turn.text }]),
    ...(turn.toolUses ?? []).map((use, i) => ({ toolUse: { toolUseId: toolUseId(turn, i), name: use.name, input: use.input } })),
  ];
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: stopReasonOf(turn),
    usage: usageOf(turn),
    metrics: { latencyMs: 42 },
  };
}

/** The ConverseStream events for a turn, as Bedrock orders them. */
function streamEvents(turn: FakeTurn): [string, unknown][] {
  const events: [string, unknown][] = [['messageStart', { role: 'assistant' }]];
  let index = 0;
  if (turn.text !== undefined) {
    for (const piece of chunks(turn.text, 5)) events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }]);
    events.push(['contentBlockStop', { contentBlockIndex: index }]);
    index += 1;
  }
  (turn.toolUses ?? []).forEach((use, i) => {
    events.push(['contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: toolUseId(turn, i), name: use.name } } }]);
    for (const piece of chunks(JSON.stringify(use.input), 7)) {
      events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }]);
    }
    events.push(['contentBlockStop', { contentBlockIndex: index }]);
    index += 1;
  });
  events.push(['messageStop', { stopReason: stopReasonOf(turn) }]);
  events.push(['metadata', { usage: usageOf(turn), metrics: { latencyMs: 42 } }]);
  return events;
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function sendError(res: Http2ServerResponse, requestId: string, status: number, errorType: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(JSON.stringify({ message }));
}

async function readBody(req: Http2ServerRequest): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function parseBody(text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsable: text };
  }
}
