/**
 * The terminal console: one command per line on the input, each answer as readable text on
 * the output. Works without a TTY (`echo "cost 7d" | finops-bot chat`) and resolves when
 * the input ends, when the output can no longer be written (`… | head -1`), or when the
 * caller's signal is aborted (the server shutting down while stdin stays open).
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Reply } from '../../core/reply.js';
import { renderText } from '../../render/text.js';

/** What the console needs from the engine. */
export interface ConsoleEngine {
  handle(line: string, context: { channel: 'console' }): Promise<Reply>;
}

/** How a console session is run. */
export interface ConsoleOptions {
  /** Print `finops> ` before each line (for a person at a terminal). */
  readonly prompt?: boolean | undefined;
  /**
   * Stops the session when aborted: no further line is read, so an open stdin no longer
   * keeps the process alive. An answer already being worked out is still printed.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Reads commands until the input ends (or `exit`), answering each in order. Never throws
 * for a broken output: a reader that went away simply ends the session.
 */
export async function runConsole(engine: ConsoleEngine, input: Readable, output: Writable, options: ConsoleOptions = {}): Promise<void> {
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  // Readline reads at once: take its lines before anything is awaited, or the first are lost.
  const received = lines[Symbol.asyncIterator]();
  const session = watchSession(lines, output, options.signal);
  const prompt = async () => {
    if (options.prompt && !session.stopped) await session.write('finops> ');
  };
  try {
    await prompt();
    for await (const raw of received) {
      // Lines read before the stop are still buffered in the iterator: drop them.
      if (session.stopped) break;
      const line = raw.trim();
      if (line === 'exit' || line === 'quit') break;
      if (line !== '' && !line.startsWith('#')) {
        const reply = await engine.handle(line, { channel: 'console' });
        await session.write(`${renderText(reply)}\n`);
      }
      await prompt();
    }
  } finally {
    session.end();
  }
}

/** A running session: what stops it, and writes that cannot throw or hold up a stop. */
interface Session {
  /** True once the output failed or the signal was aborted. */
  readonly stopped: boolean;
  /** Writes unless the output has failed; resolves when written, failed, or stopped. */
  write(text: string): Promise<void>;
  /** Releases the output and the signal. */
  end(): void;
}

/**
 * Stops `lines` when the output fails or `signal` aborts. A failed write (EPIPE once the
 * reader has gone away) emits 'error' on the output, which would crash the process with no
 * listener; the session listens for as long as one of its writes may still fail.
 */
function watchSession(lines: Interface, output: Writable, signal: AbortSignal | undefined): Session {
  let stopped = false;
  let outputFailed = false;
  let lastWrite: Promise<void> = Promise.resolve();
  let wake = () => {};
  const whenStopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const stop = () => {
    stopped = true;
    lines.close();
    wake();
  };
  const onOutputError = () => {
    outputFailed = true;
    stop();
  };
  output.on('error', onOutputError);
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  return {
    get stopped() {
      return stopped;
    },
    write(text) {
      if (outputFailed) return Promise.resolve();
      lastWrite = new Promise<void>((resolve) => {
        output.write(text, (error) => {
          if (error) onOutputError();
          resolve();
        });
      });
      // A reader that stalls must not hold up a stop.
      return Promise.race([lastWrite, whenStopped]);
    },
    end() {
      signal?.removeEventListener('abort', stop);
      lines.close();
      // A failed write calls back first and emits 'error' on a later tick: keep listening until then.
      void lastWrite.then(() => setImmediate(() => output.off('error', onOutputError)));
    },
  };
}
