/**
 * What a failed Slack call means to the person who asked: every Web API error becomes one
 * sentence for them and a code for the log. The sentences name the channel as a Slack
 * link, so they read right wherever they are delivered.
 */

/** The Slack error code of a failed Web API call (`not_in_channel`, `ratelimited` …), or the error's own code. */
export function slackErrorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown_error';
  const { code, data, original } = error as { code?: unknown; data?: { error?: unknown }; original?: { message?: unknown } };
  if (typeof data?.error === 'string') return data.error;
  if (code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  // The client waits out each 429 and retries; when retries run out, the last one arrives wrapped.
  if (code === 'slack_webapi_request_error' && typeof original?.message === 'string' && original.message.startsWith('A rate limit was exceeded')) return 'ratelimited';
  if (code === 'slack_webapi_request_error') return 'request_failed';
  if (code === 'slack_webapi_http_error') return 'http_error';
  return typeof code === 'string' ? code : 'unknown_error';
}

/** One sentence explaining why a reply to `channelId` could not be posted. */
export function describeSlackFailure(code: string, channelId: string): string {
  const channel = `<#${channelId}>`;
  switch (code) {
    case 'not_in_channel':
      return `I couldn't post in ${channel} because I'm not a member. Invite me with \`/invite @FinOps\` and ask again.`;
    case 'channel_not_found':
      return `I couldn't post in ${channel}: I can't see that channel (it may be private or deleted). Invite me to it, or ask me in a direct message.`;
    case 'is_archived':
      return `I couldn't post in ${channel} because it is archived.`;
    case 'restricted_action':
    case 'restricted_action_read_only_channel':
    case 'restricted_action_thread_only_channel':
    case 'restricted_action_non_threadable_channel':
      return `I'm not allowed to post in ${channel} (a workspace or channel setting prevents it). Ask me in a direct message instead.`;
    case 'ratelimited':
      return 'Slack is limiting how fast I can post right now. Please ask again in a minute.';
    case 'msg_too_long':
    case 'invalid_blocks':
      return 'Slack refused my answer because of its size or layout. Try a shorter period or a narrower question.';
    case 'request_failed':
    case 'http_error':
      return "I couldn't reach Slack to post my answer. Please ask again in a moment.";
    default:
      return `Slack refused my reply (\`${code}\`). Please ask again; if it keeps happening, tell whoever runs this bot.`;
  }
}
