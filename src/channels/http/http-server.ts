/**
 * The one HTTP port: `GET /healthz` for the ALB now; Slack (`/slack/events`) and Teams
 * (`/api/messages`) mount their handlers here as they arrive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A route handler; it owns the response. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** What the server needs to know to answer health checks. */
export interface HealthCheck {
  /** True when the database answers. */
  databaseReachable(): Promise<boolean>;
}

/** Starts the server on `port` (0 for any free port) and resolves once it listens. */
export async function startHttpServer(options: {
  port: number;
  health: HealthCheck;
  routes?: Readonly<Record<string, RouteHandler>>;
  onError?: (error: unknown) => void;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const routes = options.routes ?? {};
  const server = createServer((request, response) => {
    void route(request, response).catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      const ok = await options.health.databaseReachable();
      sendJson(response, ok ? 200 : 503, ok ? { status: 'ok' } : { status: 'unavailable', reason: 'database unreachable' });
      return;
    }
    const handler = routes[path];
    if (handler) return handler(request, response);
    sendJson(response, 404, { error: 'not found' });
  }
  // Behind an ALB: keep idle connections open longer than its 60 s idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
