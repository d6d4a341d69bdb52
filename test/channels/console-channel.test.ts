import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type ConsoleEngine, runConsole } from '../../src/channels/console/console-channel.js';
import type { Reply } from '../../src/core/reply.js';

/** A stand-in for the engine: answers "you said LINE", after `delay(line)` milliseconds. */
function echoEngine(delay: (line: string) => number = () => 0): ConsoleEngine & { readonly asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async handle(line): Promise<Reply> {
      asked.push(line);
      await new Promise((resolve) => setTimeout(resolve, delay(line)));
      return { kind: 'error', title: 'Echo', blocks: [{ type: 'text', text: `you said ${line}` }] };
    },
  };
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
  it('answers lines in order, skipping blank and # lines, until the input ends', async () => {
    // The first question takes longest: its answer must still come first.
    const engine = echoEngine((line) => (line === 'cost 7d' ? 30 : 0));
    const output = collector();
    const input = new PassThrough();
    input.end('cost 7d\n\n   \n# a comment\n  top 30d  \r\n#cost 1d\nstatus');

    await within(2000, runConsole(engine, input, output), 'the end of the session');

    expect(engine.asked).toEqual(['cost 7d', 'top 30d', 'status']);
    expect(output.text()).toBe('you said cost 7d\n\nyou said top 30d\n\nyou said status\n\n');
  });

  it('prints a prompt before each line when asked to, and stops at `exit`', async () => {
    const engine = echoEngine();
    const output = collector();
    const input = new PassThrough();
    input.end('status\nexit\ncost 7d\n');

    await within(2000, runConsole(engine, input, output, { prompt: true }), 'the end of the session');

    expect(engine.asked).toEqual(['status']);
    expect(output.text()).toBe('finops> you said status\n\nfinops> ');
  });

  it('stops reading and resolves when the output breaks (EPIPE), with no unhandled error', async () => {
    const engine = echoEngine();
    const output = brokenPipe();
    const input = new PassThrough(); // like `yes cost 7d`: the input never ends
    input.write('cost 7d\ncost 30d\ncost 90d\n');

    await within(2000, runConsole(engine, input, output), 'the end of the session');
    input.write('status\n');
    await settle();

    expect(engine.asked).toEqual(['cost 7d']);
    expect(output.unheardErrors).toEqual([]);
    // And nothing is left listening for errors that can no longer come.
    expect(output.listenerCount('error')).toBe(0);
  });

  it('stops on a broken output even before the first answer (a failing prompt)', async () => {
    const engine = echoEngine();
    const output = brokenPipe();
    const input = new PassThrough();

    await within(2000, runConsole(engine, input, output, { prompt: true }), 'the end of the session');
    input.write('cost 7d\n');
    await settle();

    expect(engine.asked).toEqual([]);
    expect(output.unheardErrors).toEqual([]);
  });

  it('stops reading and resolves promptly when its signal is aborted, though the input stays open', async () => {
    const engine = echoEngine();
    const output = collector();
    const input = new PassThrough();
    const controller = new AbortController();
    input.write('status\n');

    const session = runConsole(engine, input, output, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(engine.asked).toEqual(['status']);
    controller.abort();
    await within(500, session, 'the end of the session after abort');

    input.write('cost 7d\n');
    await settle();
    expect(engine.asked).toEqual(['status']);
    expect(output.text()).toBe('you said status\n\n');
    // The console no longer reads its input, so an open stdin does not keep the process alive.
    expect(input.listenerCount('data')).toBe(0);
  });

  it('finishes the answer it is working on when aborted, then reads nothing more', async () => {
    const engine = echoEngine((line) => (line === 'slow' ? 50 : 0));
    const output = collector();
    const input = new PassThrough();
    const controller = new AbortController();
    input.write('slow\nstatus\n');

    const session = runConsole(engine, input, output, { signal: controller.signal, prompt: true });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await within(1000, session, 'the end of the session after abort');

    expect(engine.asked).toEqual(['slow']);
    expect(output.text()).toBe('finops> you said slow\n\n');
  });

  it('does not start reading when the signal is already aborted', async () => {
    const engine = echoEngine();
    const output = collector();
    const input = new PassThrough();
    input.write('status\n');

    await within(500, runConsole(engine, input, output, { signal: AbortSignal.abort() }), 'the end of the session');

    expect(engine.asked).toEqual([]);
  });
});
