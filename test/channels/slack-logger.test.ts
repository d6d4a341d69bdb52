/**
 * Bolt and the Web API client write free-text log lines that may quote payloads and
 * requests; what reaches our logs must not carry a token, the signing secret or a
 * response URL (which lets anyone post into the channel for half an hour).
 */
import { describe, expect, it } from 'vitest';
import { describeSlackFailure, slackErrorCode } from '../../src/channels/slack/slack-errors.js';
import { maskSlackSecrets, slackLogger } from '../../src/channels/slack/slack-logger.js';
import { createLogger } from '../../src/logger.js';

describe('Slack log masking', () => {
  it('masks tokens, response URLs, verification tokens and configured secrets wherever they appear', () => {
    const line = [
      'http request headers: {"Authorization":"Bearer xoxb-123-456-abcDEF"}',
      'app token xapp-1-A01-2-beef',
      'body: {"token":"verif1cation","response_url":"https://hooks.slack.com/commands/T1/2/SeCrEt"}',
      'form: token=verif1cation&team_id=T1&response_url=https%3A%2F%2Fhooks.slack.com',
      'secret 8f742231b10e8888abcd99yyyzzz85a5 inline',
      'Received a message on the WebSocket: {"response_url":"https:\\/\\/hooks.slack.com\\/commands\\/T1\\/2\\/Hidden"}',
      'http request result: {"url":"wss://wss-primary.slack.com/link/?ticket=abc-ticket-123&app_id=A1"}',
    ].join('\n');
    const masked = maskSlackSecrets(line, ['8f742231b10e8888abcd99yyyzzz85a5']);
    for (const secret of ['xoxb-123-456-abcDEF', 'xapp-1-A01-2-beef', 'verif1cation', 'hooks.slack.com/commands', 'SeCrEt', '8f742231b10e', 'hooks.slack.com', 'Hidden', 'abc-ticket-123']) expect(masked).not.toContain(secret);
    expect(masked).toContain('"token":"[redacted]"');
    expect(masked).toContain('team_id=T1');
  });

  it('writes Bolt lines as JSON under component slack, masked, at the process level', () => {
    const lines: string[] = [];
    const logger = slackLogger(createLogger('info', { write: (line: string) => lines.push(line) }), ['s3cr3t-signing']);
    logger.debug('not at info level');
    logger.warn('signature check failed for s3cr3t-signing with', { token: 'xoxb-9-9-zz' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { component: string; msg: string; level: number };
    expect(entry).toMatchObject({ component: 'slack', level: 40 });
    expect(entry.msg).not.toContain('s3cr3t-signing');
    expect(entry.msg).not.toContain('xoxb-9-9-zz');
  });
});

describe('Slack refusals as sentences', () => {
  it('reads the Slack error code from a Web API error, a rate limit and a network failure', () => {
    expect(slackErrorCode({ code: 'slack_webapi_platform_error', data: { ok: false, error: 'not_in_channel' } })).toBe('not_in_channel');
    expect(slackErrorCode({ code: 'slack_webapi_rate_limited_error' })).toBe('ratelimited');
    expect(slackErrorCode({ code: 'slack_webapi_request_error' })).toBe('request_failed');
    expect(slackErrorCode({ code: 'slack_webapi_request_error', original: { message: 'A rate limit was exceeded (url: x, retry-after: 1)' } })).toBe('ratelimited');
    expect(slackErrorCode(new Error('boom'))).toBe('unknown_error');
  });

  it('says what happened and what to do, naming the channel', () => {
    expect(describeSlackFailure('not_in_channel', 'C1')).toBe("I couldn't post in <#C1> because I'm not a member. Invite me with `/invite @FinOps` and ask again.");
    expect(describeSlackFailure('is_archived', 'C1')).toContain('archived');
    expect(describeSlackFailure('something_new', 'C1')).toContain('`something_new`');
  });
});
