/**
 * A local stand-in for Slack's Socket Mode WebSocket endpoint (the `url` that
 * `apps.connections.open` hands out; point the fake Web API's answer here). It speaks the
 * protocol as @slack/socket-mode reads it: on connect it sends `hello`, the test pushes
 * envelopes (`{ envelope_id, type, payload, accepts_response_payload }` with `type`
 * `slash_commands`, `events_api` or `interactive`), and every acknowledgement the app
 * sends back (`{ envelope_id, payload? }`) is recorded. Pings are answered with pongs by
 * `ws` itself, as Slack's server does.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** The app id the fake's `hello` and URL name (the one in `xapp-1-A0FINOPS1-…`). */
export const FAKE_SOCKET_APP_ID = 'A0FINOPS1';

/** What Slack pushes over the socket. */
export interface SocketModeEnvelope {
  readonly envelope_id: string;
  readonly type: 'slash_commands' | 'events_api' | 'interactive';
  readonly payload: Record<string, unknown>;
  readonly accepts_response_payload: boolean;
  /** Events API deliveries only: how many times Slack has tried before, and why. */
  readonly retry_attempt?: number;
  readonly retry_reason?: string;
}

/** An acknowledgement as the app sent it back. */
export interface SocketModeAck {
  readonly envelope_id: string;
  readonly payload?: Record<string, unknown>;
}

/** How a client's connection ended. */
export interface SocketModeClose {
  readonly code: number;
  readonly reason: string;
}

/** The running fake. */
export interface FakeSocketMode {
  /** The WebSocket URL to answer `apps.connections.open` with. */
  readonly url: string;
  /** Acknowledgements received, in order. */
  readonly acks: SocketModeAck[];
  /** Messages from the app that were not acknowledgements (there should be none). */
  readonly unexpected: string[];
  /** How many clients have connected so far. */
  readonly connectionCount: number;
  /** Whether a client is connected now. */
  readonly connected: boolean;
  /** Pushes an envelope to the connected client; `envelope_id` is made up when missing. Returns the envelope id. */
  send(envelope: Omit<SocketModeEnvelope, 'envelope_id'> & { readonly envelope_id?: string }): string;
  /** The acknowledgements of one envelope. */
  acksFor(envelopeId: string): SocketModeAck[];
  /** Resolves with the first acknowledgement of `envelopeId`; rejects after `timeoutMs`. */
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketModeAck>;
  /** Resolves when the current (or next) client's connection has closed. */
  waitForClose(timeoutMs?: number): Promise<SocketModeClose>;
  close(): Promise<void>;
}

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const acks: SocketModeAck[] = [];
  const unexpected: string[] = [];
  const ackWaiters: Array<() => void> = [];
  let current: WebSocket | undefined;
  let connectionCount = 0;
  let lastClose: Promise<SocketModeClose> = Promise.resolve({ code: 0, reason: 'no client yet' });

  server.on('connection', (socket) => {
    connectionCount += 1;
    current = socket;
    lastClose = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    socket.on('close', () => {
      if (current === socket) current = undefined;
    });
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        unexpected.push(text);
        return;
      }
      if (typeof message === 'object' && message !== null && typeof (message as { envelope_id?: unknown }).envelope_id === 'string') {
        acks.push(message as SocketModeAck);
        for (const wake of ackWaiters.splice(0)) wake();
      } else {
        unexpected.push(text);
      }
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'applink-fake-127-0-0-1', build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: FAKE_SOCKET_APP_ID },
      }),
    );
  });

  const acksFor = (envelopeId: string) => acks.filter((ack) => ack.envelope_id === envelopeId);

  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=${randomUUID()}&app_id=${FAKE_SOCKET_APP_ID}`,
    acks,
    unexpected,
    get connectionCount() {
      return connectionCount;
    },
    get connected() {
      return current !== undefined && current.readyState === current.OPEN;
    },
    send: (envelope) => {
      if (!current || current.readyState !== current.OPEN) throw new Error('no Socket Mode client is connected to the fake');
      const envelopeId = envelope.envelope_id ?? randomUUID();
      current.send(JSON.stringify({ ...envelope, envelope_id: envelopeId }));
      return envelopeId;
    },
    acksFor,
    waitForAck: (envelopeId, timeoutMs = 5_000) =>
      new Promise<SocketModeAck>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the app did not acknowledge envelope ${envelopeId} within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          const ack = acksFor(envelopeId)[0];
          if (ack) {
            clearTimeout(timer);
            resolve(ack);
          } else {
            ackWaiters.push(check);
          }
        };
        check();
      }),
    waitForClose: (timeoutMs = 5_000) =>
      new Promise<SocketModeClose>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the Socket Mode client did not close its connection within ${timeoutMs} ms`)), timeoutMs);
        void lastClose.then((close) => {
          clearTimeout(timer);
          resolve(close);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
