/**
 * The process logger: pino JSON lines (CloudWatch reads them from stdout). Anything that
 * looks like a secret is redacted by key wherever it appears.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const SECRET_KEYS = ['token', 'botToken', 'appToken', 'signingSecret', 'password', 'appPassword', 'authorization', 'secretAccessKey', 'sessionToken', 'url'];

/**
 * Creates the logger; `destination` 2 sends logs to stderr (the console keeps stdout for
 * replies), and a stream receives them instead (tests read what would be logged).
 */
export function createLogger(level: string, destination: 1 | 2 | { write(line: string): unknown } = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'finops-bot' },
      redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((key) => `*.${key}`)], censor: '[redacted]' },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}
