/**
 * The channel-neutral answer. Handlers build it; renderers turn it into text, Block Kit or
 * an Adaptive Card. Inline text may use `code` spans and *bold*; renderers translate them.
 */

/** A column of a table; amounts and percentages are right-aligned. */
export interface TableColumn {
  readonly title: string;
  readonly align: 'left' | 'right';
}

/** One part of a reply. */
export type ReplyBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'fields'; readonly fields: readonly { readonly label: string; readonly value: string }[] }
  | {
      readonly type: 'table';
      readonly columns: readonly TableColumn[];
      readonly rows: readonly (readonly string[])[];
      /** A closing row (the total), set apart from the others. */
      readonly footer?: readonly string[];
    }
  | { readonly type: 'sparkline'; readonly label: string; readonly line: string }
  | { readonly type: 'context'; readonly text: string }
  /** Buttons about the text above them (Approve / Reject under one recommendation); a text channel leaves them out. */
  | { readonly type: 'actions'; readonly buttons: readonly ReplyButton[] };

/** A button in a reply: `value` comes back in the click. */
export interface ReplyButton {
  readonly text: string;
  readonly actionId: string;
  readonly value: string;
  readonly style?: 'primary' | 'danger';
}

/** A whole answer. */
export interface Reply {
  /** Answers are posted; errors and usage help are shown only to the asker where the channel allows. */
  readonly kind: 'answer' | 'error' | 'help';
  readonly title: string;
  readonly blocks: readonly ReplyBlock[];
  /**
   * Asking again would not give this reply back (an AI answer: a new text, a new cost), so
   * a channel must not offer to re-run it to share it.
   */
  readonly oneOff?: boolean;
}

/** A reply that only says something went wrong, in one or two sentences. */
export function errorReply(message: string, hint?: string): Reply {
  const blocks: ReplyBlock[] = [{ type: 'text', text: message }];
  if (hint) blocks.push({ type: 'context', text: hint });
  return { kind: 'error', title: 'Sorry', blocks };
}

/**
 * A per-process key inside every mention marker, made of private-use characters that every
 * renderer strips from all other text: a reason typed by a user, a tag from AWS or a model's
 * answer cannot forge a marker, so only the bot's own mentions ever ping anyone. (Not a
 * secret against this process; Math.random is enough, and no clock is read.)
 */
const MENTION_KEY = Array.from({ length: 8 }, () => String.fromCharCode(0xe000 + Math.floor(Math.random() * 0x1900))).join('');

/** A mention marker made by {@link mention}; the id is the first group. */
export const MENTION = new RegExp(`\u27e6${MENTION_KEY}@([A-Za-z0-9-]{1,64})\u27e7`, 'g');

/** The characters a marker is made of: whatever of them is not part of a real marker is removed. */
export const MARKER_CHARS = /[\u27e6\u27e7\ue000-\uf8ff]/g;

/**
 * A person named in reply text, shown as a mention where the platform has them ("Approved
 * by @alice"). Only a plain id becomes one; anything else is shown as it is.
 */
export function mention(userId: string): string {
  return /^[A-Za-z0-9-]{1,64}$/.test(userId) ? `\u27e6${MENTION_KEY}@${userId}\u27e7` : userId;
}

/** Text with its mentions as plain `@id` and nothing left of a marker: for plain text, a model's context, a form's error line. */
export function plainMentions(text: string): string {
  return text.replace(MENTION, '@$1').replace(MARKER_CHARS, '');
}
