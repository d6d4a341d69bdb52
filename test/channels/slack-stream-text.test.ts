/** What a streamed AI answer may put in Slack: no mentions, no disguised links, whatever the model writes. */
import { describe, expect, it } from 'vitest';
import { safeMarkdown } from '../../src/channels/slack/slack-ai.js';

function stream(pieces: readonly string[]): string {
  const safe = safeMarkdown();
  return pieces.map((piece) => safe.push(piece)).join('') + safe.flush();
}

describe('streamed answer text', () => {
  it('escapes Slack control syntax, so <!channel> and <https://evil|Click> show as text', () => {
    expect(stream(['Hi <!channel>, see <https://evil.example|your bill> & more'])).toBe('Hi &lt;!channel&gt;, see &lt;https://evil.example|your bill&gt; &amp; more');
  });

  it('shows a Markdown link with its address, even when it arrives in pieces', () => {
    const whole = 'Open [the console](https://evil.example/login) now.';
    expect(stream([whole])).toBe('Open the console (https://evil.example/login) now.');
    for (let cut = 1; cut < whole.length; cut++) expect(stream([whole.slice(0, cut), whole.slice(cut)])).toBe('Open the console (https://evil.example/login) now.');
    expect(stream([...whole])).toBe('Open the console (https://evil.example/login) now.');
  });

  it('does not hold back brackets that are not links', () => {
    const safe = safeMarkdown();
    expect(safe.push('Costs [estimated]\nnext line')).toBe('Costs [estimated]\nnext line');
    expect(safe.push('a [note')).toBe('a ');
    expect(safe.flush()).toBe('[note');
  });
});
