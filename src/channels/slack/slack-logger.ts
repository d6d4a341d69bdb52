/**
 * Bolt and the Slack Web API client log through this adapter into the process logger, so
 * their lines are JSON like ours. Their messages are free text that may quote a payload
 * (with its verification token and `response_url`) or a request (with a token), so every
 * message is masked before it is written; key-based redaction in pino cannot see inside a
 * string.
 */
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../logger.js';

/** Each pattern keeps its first group (the field name) and replaces the rest. */
const SLACK_SECRET_PATTERNS: readonly RegExp[] = [
  /()xox[a-z]-[A-Za-z0-9-]+/g,
  /()xapp-[A-Za-z0-9-]+/g,
  /()https?:\\?\/\\?\/hooks\.slack\.com[^\s"'<>]*/g,
  /("response_url"\s*:\s*")[^"]*/g,
  /(\bticket=)[^&\s"]+/g,
  /("token"\s*:\s*")[^"]*/g,
  /(\btoken=)[^&\s"]+/g,
  /(\bresponse_url=)[^&\s"]+/g,
];

/** Replaces Slack tokens, response URLs and the given secret values in `text`. */
export function maskSlackSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (secret.length >= 6) masked = masked.split(secret).join('[redacted]');
  for (const pattern of SLACK_SECRET_PATTERNS) masked = masked.replace(pattern, '$1[redacted]');
  return masked;
}

const BOLT_LEVELS: Readonly<Record<string, LogLevel>> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/** A Bolt/Web API logger writing masked lines to `logger` under `component: slack`. */
export function slackLogger(logger: Logger, secrets: readonly string[]): SlackLogger {
  let name = 'slack';
  let child = logger.child({ component: name });
  const write = (level: 'debug' | 'info' | 'warn' | 'error', parts: unknown[]) => {
    if (!child.isLevelEnabled(level)) return;
    const text = parts.map((part) => (part instanceof Error ? part.message : typeof part === 'string' ? part : safeJson(part))).join(' ');
    child[level](maskSlackSecrets(text, secrets));
  };
  return {
    debug: (...parts) => write('debug', parts),
    info: (...parts) => write('info', parts),
    warn: (...parts) => write('warn', parts),
    error: (...parts) => write('error', parts),
    setLevel: () => undefined,
    getLevel: () => BOLT_LEVELS[logger.level] ?? LogLevel.INFO,
    setName: (next) => {
      name = next;
      child = logger.child({ component: name });
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
