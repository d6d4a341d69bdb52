/**
 * The terminal console: one command per line on the input, each answer as readable text on
 * the output. Works without a TTY (`echo "cost 7d" | finops-bot chat`) and resolves when
 * the input ends.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Reply } from '../../core/reply.js';
import { renderText } from '../../render/text.js';

/** What the console needs from the engine. */
export interface ConsoleEngine {
  handle(line: string, context: { channel: 'console' }): Promise<Reply>;
}

/** Reads commands until the input ends (or `exit`), answering each in order. */
export async function runConsole(engine: ConsoleEngine, input: Readable, output: Writable, options: { prompt?: boolean } = {}): Promise<void> {
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  const prompt = () => {
    if (options.prompt) output.write('finops> ');
  };
  prompt();
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === 'exit' || line === 'quit') break;
    if (line !== '' && !line.startsWith('#')) {
      const reply = await engine.handle(line, { channel: 'console' });
      output.write(`${renderText(reply)}\n`);
    }
    prompt();
  }
  lines.close();
}
