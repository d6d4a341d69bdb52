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
  | { readonly type: 'context'; readonly text: string };

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
