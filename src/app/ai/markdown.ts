/**
 * Model Markdown in the reply's inline markup (`*bold*`, `code`, bullets), which every
 * renderer understands: Slack mrkdwn, Adaptive Cards, the terminal.
 */

/** Rewrites common Markdown (bold, headings, bullets, links) into the reply markup. */
export function toChatMarkdown(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
      if (heading) return `*${heading[1]!.replace(/\*+/g, '').trim()}*`;
      return line.replace(/^(\s*)[-*+]\s+/, '$1• ');
    })
    .join('\n')
    .replace(/\*\*([^*\n]+)\*\*/g, '*$1*')
    .replace(/__([^_\n]+)__/g, '_$1_')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, '$1 ($2)');
}
