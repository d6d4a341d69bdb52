import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/adapters/db/database.js';
import { startHttpServer, type HealthCheck, type RouteHandler } from '../../src/channels/http/http-server.js';

type Started = Awaited<ReturnType<typeof startHttpServer>>;

const healthy: HealthCheck = { databaseReachable: async () => true };
const unhealthy: HealthCheck = { databaseReachable: async () => false };

describe('startHttpServer', () => {
  const open: Started[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((started) => started.close()));
  });

  async function start(options: { health: HealthCheck; routes?: Record<string, RouteHandler>; onError?: (error: unknown) => void }): Promise<{ url: string; started: Started }> {
    const started = await startHttpServer({ port: 0, ...options });
    open.push(started);
    return { url: `http://127.0.0.1:${started.port}`, started };
  }

  it('listens on a free port when asked for port 0', async () => {
    const { started } = await start({ health: healthy });

    expect(started.port).toBeGreaterThan(0);
    expect(started.server.listening).toBe(true);
  });

  it('GET /healthz answers 200 {status: ok} when the database is reachable', async () => {
    const { url } = await start({ health: healthy });

    const response = await fetch(`${url}/healthz`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /healthz answers 503 when the database is unreachable', async () => {
    const { url } = await start({ health: unhealthy });

    const response = await fetch(`${url}/healthz`);

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable' });
  });

  it('GET /healthz ignores a query string', async () => {
    const { url } = await start({ health: healthy });

    const response = await fetch(`${url}/healthz?from=alb`);

    expect(response.status).toBe(200);
  });

  it('HEAD /healthz answers with the status and no body', async () => {
    const up = await start({ health: healthy });
    const down = await start({ health: unhealthy });

    const upResponse = await fetch(`${up.url}/healthz`, { method: 'HEAD' });
    const downResponse = await fetch(`${down.url}/healthz`, { method: 'HEAD' });

    expect(upResponse.status).toBe(200);
    expect(await upResponse.text()).toBe('');
    expect(downResponse.status).toBe(503);
    expect(await downResponse.text()).toBe('');
  });

  it('an unknown path answers 404 in JSON', async () => {
    const { url } = await start({ health: healthy });

    const response = await fetch(`${url}/nowhere`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ error: 'not found' });
  });

  it('calls a registered route handler with the request, which owns the response', async () => {
    const seen: Array<{ method: string | undefined; url: string | undefined; body: string }> = [];
    const handler: RouteHandler = async (request, response) => {
      let body = '';
      for await (const chunk of request) body += String(chunk);
      seen.push({ method: request.method, url: request.url, body });
      response.writeHead(202, { 'content-type': 'text/plain' });
      response.end('accepted');
    };
    const { url } = await start({ health: healthy, routes: { '/slack/events': handler } });

    const response = await fetch(`${url}/slack/events?retry=1`, { method: 'POST', body: 'token=abc' });

    expect(response.status).toBe(202);
    expect(await response.text()).toBe('accepted');
    expect(seen).toEqual([{ method: 'POST', url: '/slack/events?retry=1', body: 'token=abc' }]);
  });

  it('a handler that throws gives 500, is reported, and the server keeps serving', async () => {
    const errors: unknown[] = [];
    const boom = new Error('handler exploded');
    const { url } = await start({
      health: healthy,
      routes: {
        '/sync-throw': () => {
          throw boom;
        },
        '/async-throw': async () => {
          await Promise.resolve();
          throw new Error('async exploded');
        },
        '/fine': (_request, response) => {
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.end('still here');
        },
      },
      onError: (error) => errors.push(error),
    });

    const first = await fetch(`${url}/sync-throw`, { method: 'POST' });
    const second = await fetch(`${url}/async-throw`);
    const next = await fetch(`${url}/fine`);
    const health = await fetch(`${url}/healthz`);

    expect(first.status).toBe(500);
    expect(await first.json()).toEqual({ error: 'internal error' });
    expect(second.status).toBe(500);
    expect(await second.text()).not.toContain('async exploded');
    expect(next.status).toBe(200);
    expect(await next.text()).toBe('still here');
    expect(health.status).toBe(200);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBe(boom);
  });

  it('a health check that rejects answers a 5xx (unhealthy to the ALB) rather than crashing', async () => {
    const { url } = await start({ health: { databaseReachable: () => Promise.reject(new Error('driver bug')) } });

    const response = await fetch(`${url}/healthz`);
    const again = await fetch(`${url}/nowhere`);

    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(again.status).toBe(404);
  });

  it('close() resolves and the port stops answering', async () => {
    const started = await startHttpServer({ port: 0, health: healthy });
    const url = `http://127.0.0.1:${started.port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    await expect(started.close()).resolves.toBeUndefined();

    expect(started.server.listening).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('startHttpServer health check against a real database', () => {
  let database: Database | undefined;
  let started: Started | undefined;
  afterEach(async () => {
    await started?.close();
    await database?.close();
    started = undefined;
    database = undefined;
  });

  it('answers 503 when PostgreSQL cannot be reached (nothing listens on port 1)', async () => {
    const db = await openDatabase({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    database = db;
    started = await startHttpServer({ port: 0, health: { databaseReachable: () => db.ping(1000) } });

    const response = await fetch(`http://127.0.0.1:${started.port}/healthz`);

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable' });
  });

  it('answers 200 with a migrated in-memory PGlite database', async () => {
    const db = await openDatabase({ kind: 'pglite', dataDir: undefined });
    database = db;
    await db.migrate();
    started = await startHttpServer({ port: 0, health: { databaseReachable: () => db.ping(1000) } });

    const response = await fetch(`http://127.0.0.1:${started.port}/healthz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
