/**
 * The console over the real command engine. The world is faked at its edges only: the
 * terminal (in-memory streams) and, for an answer that takes a while, a database address
 * that accepts connections and never replies.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { type Database, openDatabase } from '../../src/adapters/db/database.js';
import { CommandEngine } from '../../src/app/engine.js';
import { runConsole } from '../../src/channels/console/console-channel.js';
import { FixedClock, testEngineSettings } from '../support/world.js';

const HELP = 'What I can do';
const HELP_COST = 'help cost';
const NO_DATA = 'I have no cost data yet';
const UNREACHABLE = 'The cost database is not reachable right now';

function engineOver(database: Database): CommandEngine {
  const clock = new FixedClock(new Date('2026-11-22T12:00:00Z'));
  return new CommandEngine({ store: new PgCostStore(database.db), clock, settings: testEngineSettings() }, { error: () => undefined, warn: () => undefined });
}

/** An output that keeps what is written to it. */
function collector(): Writable & { readonly text: () => string } {
  const chunks: string[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return Object.assign(output, { text: () => chunks.join('') });
}

/** An output whose reader has gone away (`| head -1`): every write fails with EPIPE. */
function brokenPipe(): Writable & { readonly unheardErrors: unknown[] } {
  const unheardErrors: unknown[] = [];
  const output = new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }));
    },
  });
  // An 'error' emitted with no listener is an uncaught exception: the process would crash.
  const emit = output.emit.bind(output);
  output.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error' && output.listenerCount('error') === 0) unheardErrors.push(args[0]);
    return event === 'error' && output.listenerCount('error') === 0 ? true : emit(event, ...args);
  }) as typeof output.emit;
  return Object.assign(output, { unheardErrors });
}

/** `promise`, or a rejection naming what did not happen within `ms`. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Lets pending ticks and immediates (where late 'error' events are emitted) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('runConsole', () => {
  let empty: Database;
  let silent: Database;
  let blackHole: Server;
  const held = new Set<Socket>();
  let engine: CommandEngine;

  beforeAll(async () => {
    empty = await openDatabase({ kind: 'pglite', dataDir: undefined });
    await empty.migrate();
    engine = engineOver(empty);
    // Accepts connections and says nothing: every query waits for the connection timeout.
    blackHole = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    silent = await openDatabase({ kind: 'postgres', url: `postgres://finops@127.0.0.1:${(blackHole.address() as { port: number }).port}/none` });
  });
  afterAll(async () => {
    await empty.close();
    await silent.close();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });

  it('answers lines in order, skipping blank and # lines, until the input ends', async () => {
    // The first question needs the database; the ones after it do not: answers still come in order.
    const output = collector();
    const input = new PassThrough();
    input.end('cost 7d\n\n   \n# a comment\n  help cost  \r\n#cost 1d\nhelp');

    await within(5000, runConsole(engine, input, output), 'the end of the session');

    const text = output.text();
    const replies = text.split('\n\n').filter(Boolean);
    expect(replies).toHaveLength(3);
    expect(replies[0]).toContain(NO_DATA);
    expect(replies[1]).toMatch(new RegExp(`^${HELP_COST}\n`));
    expect(replies[2]).toMatch(new RegExp(`^${HELP}\n`));
  });

  it('prints a prompt before each line when asked to, and stops at `exit`', async () => {
    const output = collector();
    const input = new PassThrough();
    input.end('help\nexit\ncost 7d\n');

    await within(5000, runConsole(engine, input, output, { prompt: true }), 'the end of the session');

    expect(output.text()).toMatch(new RegExp(`^finops> ${HELP}\n[\\s\\S]*\n\nfinops> $`));
    expect(output.text()).not.toContain(NO_DATA);
  });

  it('stops reading and resolves when the output breaks (EPIPE), with no unhandled error', async () => {
    const output = brokenPipe();
    const input = new PassThrough(); // like `yes help`: the input never ends
    input.write('help\nhelp\nhelp\n');

    await within(5000, runConsole(engine, input, output), 'the end of the session');
    input.write('help\n');
    await settle();

    expect(output.unheardErrors).toEqual([]);
    // Nothing reads the input any more, and nothing is left listening for errors that can no longer come.
    expect(input.listenerCount('data')).toBe(0);
    expect(output.listenerCount('error')).toBe(0);
  });

  it('stops on a broken output even before the first answer (a failing prompt)', async () => {
    const output = brokenPipe();
    const input = new PassThrough();

    await within(5000, runConsole(engine, input, output, { prompt: true }), 'the end of the session');
    input.write('help\n');
    await settle();

    expect(input.listenerCount('data')).toBe(0);
    expect(output.unheardErrors).toEqual([]);
  });

  it('stops reading and resolves promptly when its signal is aborted, though the input stays open', async () => {
    const output = collector();
    const input = new PassThrough();
    const controller = new AbortController();
    input.write('help\n');

    const session = runConsole(engine, input, output, { signal: controller.signal });
    await within(5000, waitFor(() => output.text().includes(HELP)), 'the first answer');
    controller.abort();
    await within(500, session, 'the end of the session after abort');

    input.write('cost 7d\n');
    await settle();
    expect(output.text()).not.toContain(NO_DATA);
    // The console no longer reads its input, so an open stdin does not keep the process alive.
    expect(input.listenerCount('data')).toBe(0);
  });

  it('finishes the answer it is working on when aborted, then reads nothing more', async () => {
    // This answer waits for a database that never replies, until the connection timeout.
    const slow = engineOver(silent);
    const output = collector();
    const input = new PassThrough();
    const controller = new AbortController();
    input.write('cost 7d\nhelp\n');

    const session = runConsole(slow, input, output, { signal: controller.signal, prompt: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await within(15_000, session, 'the end of the session after abort');

    expect(output.text()).toMatch(new RegExp(`^finops> ${UNREACHABLE}`));
    expect(output.text()).not.toContain(HELP);
  });

  it('does not start reading when the signal is already aborted', async () => {
    const output = collector();
    const input = new PassThrough();
    input.write('help\n');

    await within(500, runConsole(engine, input, output, { signal: AbortSignal.abort() }), 'the end of the session');

    expect(output.text()).toBe('');
  });
});

/** Resolves once `condition` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
