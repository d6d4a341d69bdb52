/**
 * Claude (or Amazon Nova) on Amazon Bedrock through the Converse API, as the bot's
 * {@link LanguageModel}. Requests map one to one onto Converse (with cache points after
 * the system prompt and the tools when the model supports prompt caching); answers are
 * streamed with ConverseStream when the caller wants text as it is written. Retries on
 * throttling and 5xx are the SDK's own; what fails after them becomes a coded
 * {@link FinOpsError} with a sentence for the user and the SDK error as `cause`.
 */
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type BedrockRuntimeClientConfig,
  type ContentBlock,
  type Message,
  type SystemContentBlock,
  type Tool,
  type TokenUsage as BedrockTokenUsage,
} from '@aws-sdk/client-bedrock-runtime';
import { mapBedrockError } from './bedrock-errors.js';
import { readConverseStream } from './bedrock-stream.js';
import type { LanguageModel, ModelContent, ModelMessage, ModelRequest, ModelResponse, ModelStopReason, TokenUsage } from '../../ports.js';

/** Attempts per request, the first included (the SDK's standard retry strategy backs off between them). */
export const BEDROCK_MAX_ATTEMPTS = 3;
/** Default most time a request, or a streamed answer between two events, may stay silent. */
export const BEDROCK_REQUEST_TIMEOUT_MS = 30_000;

/** Client settings: any SDK option (they win), plus the request timeout. */
export interface BedrockClientOptions extends BedrockRuntimeClientConfig {
  /** Most ms a request may stay silent (default {@link BEDROCK_REQUEST_TIMEOUT_MS}). */
  requestTimeoutMs?: number;
}

/**
 * Builds the Bedrock Runtime client with the bot's defaults: region and credentials from
 * the SDK's own chains (AWS_REGION …), {@link BEDROCK_MAX_ATTEMPTS} attempts with the
 * standard retry strategy, and a request timeout on the SDK's own HTTP/2 handler. That
 * handler has no connection timeout: a connection that never opens is ended by the caller's
 * deadline (the request's abort signal). The endpoint is left to the SDK, so
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME applies.
 */
export function createBedrockClient(options: BedrockClientOptions = {}): BedrockRuntimeClient {
  const { requestTimeoutMs, ...overrides } = options;
  return new BedrockRuntimeClient({
    maxAttempts: BEDROCK_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout: requestTimeoutMs ?? BEDROCK_REQUEST_TIMEOUT_MS,
      // The SDK's default for Bedrock Runtime: one HTTP/2 session per request.
      disableConcurrentStreams: true,
    },
    ...overrides,
  });
}

// Claude 3.5 Haiku, 3.7 Sonnet, the Claude 4 family (Sonnet 4/4.5, Opus 4/4.1/4.5, Haiku 4.5 …) and Amazon Nova.
const PROMPT_CACHE_MODELS =
  /(?:^|[./])(?:anthropic\.claude-(?:3-5-haiku|3-7-sonnet|(?:opus|sonnet|haiku)-4(?:-\d)?)-\d{8}|amazon\.nova-(?:micro|lite|pro|premier)-)/i;

/**
 * Whether Bedrock honours cache points for `modelId`: a foundation model id, a cross-region
 * inference profile (`us.`, `eu.`, `global.` …) or an ARN that names one of them.
 */
export function modelSupportsPromptCache(modelId: string): boolean {
  return PROMPT_CACHE_MODELS.test(modelId);
}

const STOP_REASONS: Readonly<Record<string, ModelStopReason>> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  guardrail_intervened: 'guardrail_intervened',
  content_filtered: 'content_filtered',
};

/** Bedrock's stop reason in our terms; any other (or none) is 'other'. */
export function toStopReason(reason: string | undefined): ModelStopReason {
  return (reason !== undefined && Object.hasOwn(STOP_REASONS, reason) ? STOP_REASONS[reason] : undefined) ?? 'other';
}

/** Bedrock's token counts in our terms (missing counts are 0). */
export function toTokenUsage(usage: BedrockTokenUsage | undefined): TokenUsage {
  return {
    input: usage?.inputTokens ?? 0,
    output: usage?.outputTokens ?? 0,
    cacheRead: usage?.cacheReadInputTokens ?? 0,
    cacheWrite: usage?.cacheWriteInputTokens ?? 0,
  };
}

/** A model on Amazon Bedrock, spoken to with Converse / ConverseStream. */
export class BedrockLanguageModel implements LanguageModel {
  readonly supportsPromptCache: boolean;
  private readonly isNova: boolean;
  private readonly client: BedrockRuntimeClient;

  constructor(
    readonly modelId: string,
    options: { client?: BedrockRuntimeClient } = {},
  ) {
    this.client = options.client ?? createBedrockClient();
    this.supportsPromptCache = modelSupportsPromptCache(modelId);
    this.isNova = /amazon\.nova-/i.test(modelId);
  }

  /** One model turn; streamed (text to `onText` as it comes) when `onText` is set. */
  async converse(request: ModelRequest): Promise<ModelResponse> {
    const input = this.toConverseInput(request);
    const fail = (error: unknown): Error => mapBedrockError(error, this.modelId, { aborted: request.signal?.aborted === true });
    const options = { abortSignal: request.signal };
    if (request.onText) {
      const output = await this.client.send(new ConverseStreamCommand(input), options).catch((error: unknown) => {
        throw fail(error);
      });
      const turn = await readConverseStream(output.stream, request.onText, fail);
      return { content: turn.content, stopReason: toStopReason(turn.stopReason), usage: toTokenUsage(turn.usage) };
    }
    const output = await this.client.send(new ConverseCommand(input), options).catch((error: unknown) => {
      throw fail(error);
    });
    return {
      content: (output.output?.message?.content ?? []).flatMap(fromContentBlock),
      stopReason: toStopReason(output.stopReason),
      usage: toTokenUsage(output.usage),
    };
  }

  /** The Converse input for a request (the same for ConverseStream). */
  private toConverseInput(request: ModelRequest) {
    const cache = request.cachePrefix && this.supportsPromptCache;
    const cachePoint = { cachePoint: { type: 'default' as const } };
    const system: SystemContentBlock[] = [{ text: request.system }, ...(cache ? [cachePoint] : [])];
    // JSON values go to the SDK as its DocumentType, which our `unknown`s are not typed as.
    const tools: Tool[] = request.tools.map((tool) => ({
      toolSpec: { name: tool.name, description: tool.description, inputSchema: { json: tool.inputSchema as never } },
    }));
    return {
      modelId: this.modelId,
      system,
      messages: request.messages.map(toMessage),
      // Nova caches the system prompt and messages only; a cache point among the tools is Claude's.
      ...(tools.length > 0 ? { toolConfig: { tools: [...tools, ...(cache && !this.isNova ? [cachePoint] : [])] } } : {}),
      inferenceConfig: { maxTokens: request.maxTokens },
    };
  }
}

function toMessage(message: ModelMessage): Message {
  return { role: message.role, content: message.content.map(toContentBlock) };
}

function toContentBlock(content: ModelContent): ContentBlock {
  switch (content.type) {
    case 'text':
      return { text: content.text };
    case 'tool_use':
      return { toolUse: { toolUseId: content.id, name: content.name, input: content.input as never } };
    case 'tool_result':
      return {
        toolResult: { toolUseId: content.id, content: [{ text: content.text }], status: content.isError ? 'error' : 'success' },
      };
  }
}

/** Text and tool-use blocks of an answer; other kinds (reasoning, citations …) are left out. */
function fromContentBlock(block: ContentBlock): ModelContent[] {
  if (block.text !== undefined) return [{ type: 'text', text: block.text }];
  if (block.toolUse !== undefined) {
    const { toolUseId, name, input } = block.toolUse;
    return [{ type: 'tool_use', id: toolUseId ?? '', name: name ?? '', input: input ?? {} }];
  }
  return [];
}
