/**
 * Reading every page of an AWS list, with one guard for all of them: a token already
 * followed, or more pages than any sane answer has, stops the reading before the next
 * request (which may be billed) with a sentence for the operator.
 */
import { FinOpsError } from '../../core/errors.js';

/** How the guard's refusals name what was read. */
export interface PageWording {
  /** The service, as a sentence starts with it: "AWS Budgets". */
  readonly service: string;
  /** What the pages hold, plural: "budgets". */
  readonly items: string;
  /** The token's name in the refusal (default "page token"). */
  readonly token?: string;
  readonly maxPages: number;
  /** Said after "the bot stopped reading them." (what the operator can do). */
  readonly advice?: string;
}

/**
 * Every page, in order: `fetch` asks for one (numbered from 1) with the token of the one
 * before, `next` reads the token that follows it (none: that was the last page).
 */
export async function readAllPages<P>(wording: PageWording, fetch: (token: string | undefined, page: number) => Promise<P>, next: (page: P) => string | undefined): Promise<P[]> {
  const pages: P[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const output = await fetch(token, pages.length + 1);
    pages.push(output);
    token = next(output) || undefined;
    if (token === undefined) break;
    if (seen.has(token)) {
      throw new FinOpsError(
        'cost_source_unavailable',
        `${wording.service} returned the same ${wording.token ?? 'page token'} twice (after page ${pages.length}); the bot stopped reading ${wording.items} instead of reading the same pages again.`,
      );
    }
    if (pages.length >= wording.maxPages) {
      throw new FinOpsError(
        'cost_source_unavailable',
        `${wording.service} still had more ${wording.items} after ${wording.maxPages} pages; the bot stopped reading them.${wording.advice ? ` ${wording.advice}` : ''}`,
      );
    }
    seen.add(token);
  } while (token !== undefined);
  return pages;
}
