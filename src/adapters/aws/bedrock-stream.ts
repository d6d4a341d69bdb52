/**
 * Assembles one ConverseStream answer from its events: text deltas are passed on as they
 * come and joined into text blocks, tool input arrives as JSON fragments that are joined
 * and parsed when their block stops, and the stop reason and token usage come from the
 * closing events. Exceptions Bedrock sends inside the stream are failures like thrown ones.
 */
import type { ConverseStreamOutput, TokenUsage as BedrockTokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { ModelContent } from '../../ports.js';

/** A finished stream, before stop reason and usage are put into our terms. */
export interface StreamedTurn {
  readonly content: ModelContent[];
  readonly stopReason: string | undefined;
  readonly usage: BedrockTokenUsage | undefined;
}

/** Exception members of the ConverseStream union, by the SDK error name each stands for. */
const STREAM_EXCEPTIONS = {
  throttlingException: 'ThrottlingException',
  serviceUnavailableException: 'ServiceUnavailableException',
  internalServerException: 'InternalServerException',
  modelStreamErrorException: 'ModelStreamErrorException',
  validationException: 'ValidationException',
} as const;

type Block = { kind: 'text'; text: string } | { kind: 'tool'; id: string; name: string; json: string; input?: unknown };

/**
 * Reads `stream` to its end. `onText` receives every text delta in order; its own errors
 * pass through untouched. Stream failures (thrown by the SDK, sent as exception events, or
 * a stream that ends before `messageStop`) are handed to `fail`, whose result is thrown.
 */
export async function readConverseStream(
  stream: AsyncIterable<ConverseStreamOutput> | undefined,
  onText: (delta: string) => void,
  fail: (error: unknown) => Error,
): Promise<StreamedTurn> {
  const blocks = new Map<number, Block>();
  let stopReason: string | undefined;
  let stopped = false;
  let usage: BedrockTokenUsage | undefined;
  if (stream === undefined) throw fail(incomplete('Bedrock answered ConverseStream without a stream'));
  const iterator = stream[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<ConverseStreamOutput>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw fail(error);
    }
    if (next.done) break;
    const event = next.value;
    const exception = streamException(event);
    if (exception !== undefined) throw fail(exception);
    if (event.contentBlockStart?.start?.toolUse) {
      const { toolUseId, name } = event.contentBlockStart.start.toolUse;
      blocks.set(event.contentBlockStart.contentBlockIndex ?? blocks.size, { kind: 'tool', id: toolUseId ?? '', name: name ?? '', json: '' });
    } else if (event.contentBlockDelta) {
      const index = event.contentBlockDelta.contentBlockIndex ?? 0;
      const delta = event.contentBlockDelta.delta;
      const block = blocks.get(index);
      if (delta?.text !== undefined) {
        if (block?.kind === 'text') block.text += delta.text;
        else blocks.set(index, { kind: 'text', text: delta.text });
        if (delta.text !== '') onText(delta.text);
      } else if (delta?.toolUse?.input !== undefined && block?.kind === 'tool') {
        block.json += delta.toolUse.input;
      }
    } else if (event.contentBlockStop) {
      const block = blocks.get(event.contentBlockStop.contentBlockIndex ?? 0);
      if (block?.kind === 'tool') block.input = parseToolInput(block.json);
    } else if (event.messageStop) {
      stopped = true;
      stopReason = event.messageStop.stopReason;
    } else if (event.metadata) {
      usage = event.metadata.usage;
    }
  }
  if (!stopped) throw fail(incomplete('The ConverseStream answer ended before its messageStop event'));
  const content = [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, block]): ModelContent =>
      block.kind === 'text'
        ? { type: 'text', text: block.text }
        : { type: 'tool_use', id: block.id, name: block.name, input: 'input' in block ? block.input : parseToolInput(block.json) },
    );
  return { content, stopReason, usage };
}

/**
 * Tool input as the model wrote it: parsed JSON, `{}` when it sent none, or the raw text
 * when it is not valid JSON (so the caller's validation rejects it with a useful message).
 */
export function parseToolInput(json: string): unknown {
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

/** The exception an event carries, as an error named like the SDK's exception class. */
function streamException(event: ConverseStreamOutput): Error | undefined {
  for (const [member, name] of Object.entries(STREAM_EXCEPTIONS)) {
    const value = (event as unknown as Record<string, unknown>)[member];
    if (value === undefined || value === null) continue;
    if (value instanceof Error) return value;
    const message = (value as { message?: unknown }).message;
    return Object.assign(new Error(typeof message === 'string' ? message : name), value, { name });
  }
  return undefined;
}

function incomplete(message: string): Error {
  return Object.assign(new Error(message), { name: 'IncompleteStreamError' });
}
