import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BedrockLanguageModel,
  createBedrockClient,
  modelSupportsPromptCache,
  toStopReason,
  type BedrockClientOptions,
} from '../../../src/adapters/aws/bedrock-model.js';
import { isFinOpsError, type FinOpsError } from '../../../src/core/errors.js';
import type { ModelMessage, ModelRequest, ModelTool } from '../../../src/ports.js';
import { startFakeBedrock, type FakeBedrock } from '../../support/fake-bedrock.js';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const OLD_HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
const credentials = { accessKeyId: 'AKIDFAKEBEDROCK', secretAccessKey: SECRET };
const SYSTEM = 'You are the FinOps bot. Internal note: do-not-leak-this-prompt.';

const costTool: ModelTool = {
  name: 'get_costs',
  description: 'Daily costs of a service.',
  inputSchema: { type: 'object', properties: { service: { type: 'string' } }, required: ['service'] },
};

const toolRoundTrip: ModelMessage[] = [
  { role: 'user', content: [{ type: 'text', text: 'What did EC2 cost?' }] },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'tu_1', name: 'get_costs', input: { service: 'EC2' } },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'tool_result', id: 'tu_1', text: '{"total":"12.34"}', isError: false },
      { type: 'tool_result', id: 'tu_2', text: 'unknown service', isError: true },
    ],
  },
];

const request = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({
  system: SYSTEM,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
  tools: [costTool],
  maxTokens: 1024,
  cachePrefix: true,
  ...overrides,
});

async function failure(promise: Promise<unknown>): Promise<FinOpsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isFinOpsError(error)) throw new Error(`expected a FinOpsError, got ${String(error)}`);
  return error;
}

async function* events(...items: ConverseStreamOutput[]): AsyncGenerator<ConverseStreamOutput> {
  for (const item of items) yield item;
}

describe('supportsPromptCache and stop reasons', () => {
  it.each([
    ['anthropic.claude-3-5-haiku-20241022-v1:0', true],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', true],
    ['anthropic.claude-sonnet-4-20250514-v1:0', true],
    [SONNET, true],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', true],
    ['eu.anthropic.claude-opus-4-20250514-v1:0', true],
    ['us.anthropic.claude-opus-4-1-20250805-v1:0', true],
    ['global.anthropic.claude-opus-4-5-20251101-v1:0', true],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', true],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0', true],
    ['arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0', true],
    ['amazon.nova-micro-v1:0', true],
    ['us.amazon.nova-lite-v1:0', true],
    ['amazon.nova-pro-v1:0', true],
    ['us.amazon.nova-premier-v1:0', true],
    [OLD_HAIKU, false],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', false],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', false],
    ['meta.llama3-1-70b-instruct-v1:0', false],
    ['mistral.mistral-large-2407-v1:0', false],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4', false],
  ])('%s → %s', (modelId, expected) => {
    expect(modelSupportsPromptCache(modelId)).toBe(expected);
    expect(new BedrockLanguageModel(modelId, { client: new BedrockRuntimeClient({ region: 'us-east-1', credentials }) }).supportsPromptCache).toBe(expected);
  });

  it('maps every Bedrock stop reason, unknown ones to other', () => {
    expect(
      ['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'guardrail_intervened', 'content_filtered'].map(toStopReason),
    ).toEqual(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'guardrail_intervened', 'content_filtered']);
    expect(['malformed_tool_use', 'model_context_window_exceeded', 'toString', undefined].map(toStopReason)).toEqual(['other', 'other', 'other', 'other']);
  });
});

describe('BedrockLanguageModel with a mocked SDK client', () => {
  let mock: AwsClientStub<BedrockRuntimeClient>;
  const model = (modelId = SONNET) =>
    new BedrockLanguageModel(modelId, { client: new BedrockRuntimeClient({ region: 'us-east-1', credentials }) });
  beforeAll(() => {
    mock = mockClient(BedrockRuntimeClient);
  });
  afterAll(() => mock.restore());
  beforeEach(() => mock.reset());

  const converseOk = { output: { message: { role: 'assistant' as const, content: [{ text: 'ok' }] } }, stopReason: 'end_turn' as const, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 1 } };

  it('maps a request with cache points after the system prompt and the tools when the model supports caching', async () => {
    mock.on(ConverseCommand).resolves(converseOk);
    const controller = new AbortController();
    await model().converse(request({ messages: toolRoundTrip, signal: controller.signal }));
    const call = mock.commandCalls(ConverseCommand)[0]!;
    expect(call.args[0].input).toEqual({
      modelId: SONNET,
      system: [{ text: SYSTEM }, { cachePoint: { type: 'default' } }],
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_costs',
              description: 'Daily costs of a service.',
              inputSchema: { json: { type: 'object', properties: { service: { type: 'string' } }, required: ['service'] } },
            },
          },
          { cachePoint: { type: 'default' } },
        ],
      },
      messages: [
        { role: 'user', content: [{ text: 'What did EC2 cost?' }] },
        { role: 'assistant', content: [{ text: 'Let me look.' }, { toolUse: { toolUseId: 'tu_1', name: 'get_costs', input: { service: 'EC2' } } }] },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'tu_1', content: [{ text: '{"total":"12.34"}' }], status: 'success' } },
            { toolResult: { toolUseId: 'tu_2', content: [{ text: 'unknown service' }], status: 'error' } },
          ],
        },
      ],
      inferenceConfig: { maxTokens: 1024 },
    });
    expect((call.args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });

  it('sends no cache point when the model does not support caching, or when not asked', async () => {
    mock.on(ConverseCommand).resolves(converseOk);
    await model(OLD_HAIKU).converse(request({ cachePrefix: true }));
    await model(SONNET).converse(request({ cachePrefix: false, maxTokens: 200 }));
    for (const call of mock.commandCalls(ConverseCommand)) {
      const input = call.args[0].input;
      expect(input.system).toEqual([{ text: SYSTEM }]);
      expect(input.toolConfig?.tools).toHaveLength(1);
      expect(JSON.stringify(input)).not.toContain('cachePoint');
    }
    expect(mock.commandCalls(ConverseCommand).map((c) => c.args[0].input.inferenceConfig)).toEqual([{ maxTokens: 1024 }, { maxTokens: 200 }]);
  });

  it('puts a Nova model\'s cache point after the system prompt only: Nova does not cache tool definitions', async () => {
    mock.on(ConverseCommand).resolves(converseOk);
    await model('us.amazon.nova-pro-v1:0').converse(request({ cachePrefix: true }));
    const input = mock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.system).toEqual([{ text: SYSTEM }, { cachePoint: { type: 'default' } }]);
    expect(JSON.stringify(input.toolConfig)).not.toContain('cachePoint');
  });

  it('omits toolConfig when there are no tools', async () => {
    mock.on(ConverseCommand).resolves(converseOk);
    await model().converse(request({ tools: [] }));
    const input = mock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('toolConfig');
    expect(input.system).toEqual([{ text: SYSTEM }, { cachePoint: { type: 'default' } }]);
    expect(input.inferenceConfig).toEqual({ maxTokens: 1024 });
  });

  it('maps the answer: text and tool use in order, stop reason, usage with cache tokens', async () => {
    mock.on(ConverseCommand).resolves({
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'thinking', signature: 's' } } },
            { text: 'Checking EC2.' },
            { toolUse: { toolUseId: 'tu_9', name: 'get_costs', input: { service: 'EC2' } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 120, outputTokens: 30, totalTokens: 2150, cacheReadInputTokens: 1800, cacheWriteInputTokens: 200 },
      metrics: { latencyMs: 900 },
    });
    const response = await model().converse(request());
    expect(response).toEqual({
      content: [
        { type: 'text', text: 'Checking EC2.' },
        { type: 'tool_use', id: 'tu_9', name: 'get_costs', input: { service: 'EC2' } },
      ],
      stopReason: 'tool_use',
      usage: { input: 120, output: 30, cacheRead: 1800, cacheWrite: 200 },
    });
  });

  it('reports max_tokens and counts missing usage as zero', async () => {
    mock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'The answer was cut' }] } },
      stopReason: 'max_tokens',
      usage: undefined,
      metrics: undefined,
    });
    const response = await model().converse(request());
    expect(response.stopReason).toBe('max_tokens');
    expect(response.usage).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
  });

  describe('streaming', () => {
    const streamOf = (...items: ConverseStreamOutput[]) => ({ stream: events(...items) });

    it('passes text deltas on in order and assembles text and tool-use blocks', async () => {
      mock.on(ConverseStreamCommand).resolves(
        streamOf(
          { messageStart: { role: 'assistant' } },
          { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'EC2 ' } } },
          { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'rose ' } } },
          { contentBlockDelta: { contentBlockIndex: 0, delta: { text: '12%.' } } },
          { contentBlockStop: { contentBlockIndex: 0 } },
          { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_1', name: 'get_costs' } } } },
          { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"serv' } } } },
          { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: 'ice": "EC' } } } },
          { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '2", "days": [1, 2]}' } } } },
          { contentBlockStop: { contentBlockIndex: 1 } },
          { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tu_2', name: 'list_teams' } } } },
          { contentBlockStop: { contentBlockIndex: 2 } },
          { messageStop: { stopReason: 'tool_use' } },
          { metadata: { usage: { inputTokens: 50, outputTokens: 20, totalTokens: 1070, cacheReadInputTokens: 1000 }, metrics: { latencyMs: 5 } } },
        ),
      );
      const deltas: string[] = [];
      const response = await model().converse(request({ onText: (d) => deltas.push(d) }));
      expect(deltas).toEqual(['EC2 ', 'rose ', '12%.']);
      expect(response).toEqual({
        content: [
          { type: 'text', text: 'EC2 rose 12%.' },
          { type: 'tool_use', id: 'tu_1', name: 'get_costs', input: { service: 'EC2', days: [1, 2] } },
          { type: 'tool_use', id: 'tu_2', name: 'list_teams', input: {} },
        ],
        stopReason: 'tool_use',
        usage: { input: 50, output: 20, cacheRead: 1000, cacheWrite: 0 },
      });
      expect(mock.commandCalls(ConverseStreamCommand)[0]!.args[0].input).toMatchObject({
        modelId: SONNET,
        system: [{ text: SYSTEM }, { cachePoint: { type: 'default' } }],
        inferenceConfig: { maxTokens: 1024 },
      });
      expect(mock.commandCalls(ConverseCommand)).toHaveLength(0);
    });

    it('keeps tool input that is not valid JSON as the raw string', async () => {
      mock.on(ConverseStreamCommand).resolves(
        streamOf(
          { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu_1', name: 'get_costs' } } } },
          { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"service": ' } } } },
          { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '"EC2"' } } } },
          { contentBlockStop: { contentBlockIndex: 0 } },
          { messageStop: { stopReason: 'max_tokens' } },
        ),
      );
      const response = await model().converse(request({ onText: () => undefined }));
      expect(response.content).toEqual([{ type: 'tool_use', id: 'tu_1', name: 'get_costs', input: '{"service": "EC2"' }]);
      expect(response.stopReason).toBe('max_tokens');
      expect(response.usage).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
    });

    it('maps an exception event inside the stream like a thrown one', async () => {
      mock.on(ConverseStreamCommand).resolves(
        streamOf(
          { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Half' } } },
          { throttlingException: new ThrottlingException({ message: 'Too many tokens', $metadata: {} }) },
          { messageStop: { stopReason: 'end_turn' } },
        ),
      );
      const deltas: string[] = [];
      const error = await failure(model().converse(request({ onText: (d) => deltas.push(d) })));
      expect(error.code).toBe('model_throttled');
      expect(error.message).toBe('Amazon Bedrock is throttling requests right now.');
      expect(deltas).toEqual(['Half']);
      expect((error.cause as Error).name).toBe('ThrottlingException');
    });

    it.each([
      ['serviceUnavailableException', 'model_unavailable'],
      ['modelStreamErrorException', 'model_unavailable'],
      ['internalServerException', 'model_unavailable'],
      ['validationException', 'model_denied'],
    ])('maps a plain %s event to %s', async (member, code) => {
      mock.on(ConverseStreamCommand).resolves(streamOf({ [member]: { message: 'boom' } } as unknown as ConverseStreamOutput));
      const error = await failure(model().converse(request({ onText: () => undefined })));
      expect(error.code).toBe(code);
      expect(error.cause).toBeInstanceOf(Error);
    });

    it('maps an exception thrown while iterating, and a stream that ends before messageStop', async () => {
      async function* throwing(): AsyncGenerator<ConverseStreamOutput> {
        yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hal' } } };
        throw new ThrottlingException({ message: 'slow down', $metadata: {} });
      }
      mock.on(ConverseStreamCommand).resolvesOnce({ stream: throwing() }).resolvesOnce(streamOf({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'cut' } } }));
      expect((await failure(model().converse(request({ onText: () => undefined })))).code).toBe('model_throttled');
      const early = await failure(model().converse(request({ onText: () => undefined })));
      expect(early.code).toBe('model_unavailable');
      expect((early.cause as Error).name).toBe('IncompleteStreamError');
    });

    it('lets an error of the onText callback through untouched', async () => {
      mock.on(ConverseStreamCommand).resolves(streamOf({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'x' } } }, { messageStop: { stopReason: 'end_turn' } }));
      const own = new Error('channel closed');
      await expect(
        model().converse(
          request({
            onText: () => {
              throw own;
            },
          }),
        ),
      ).rejects.toBe(own);
    });
  });

  describe('thrown SDK errors', () => {
    const md = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'r-1', attempts: 3 });
    const cases: [string, unknown, FinOpsError['code']][] = [
      ['ThrottlingException', new ThrottlingException({ message: 'Too many requests', $metadata: md(429) }), 'model_throttled'],
      ['ServiceUnavailableException', new ServiceUnavailableException({ message: 'Unavailable', $metadata: md(503) }), 'model_unavailable'],
      ['AccessDeniedException', new AccessDeniedException({ message: `User arn:aws:iam::123456789012:user/bot is not authorized`, $metadata: md(403) }), 'model_denied'],
      ['ValidationException', new ValidationException({ message: 'on-demand throughput is not supported', $metadata: md(400) }), 'model_denied'],
      ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'Model not found', $metadata: md(404) }), 'model_denied'],
      ['CredentialsProviderError', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'model_denied'],
      ['UnrecognizedClientException', Object.assign(new Error('The security token included in the request is invalid'), { name: 'UnrecognizedClientException', $metadata: md(403) }), 'model_denied'],
      ['an unknown 5xx', Object.assign(new Error('Bad gateway'), { name: 'Unknown', $metadata: md(502) }), 'model_unavailable'],
      ['an unknown 429', Object.assign(new Error('slow'), { name: 'Unknown', $metadata: md(429) }), 'model_throttled'],
      ['ModelNotReadyException (429, but not throttling)', Object.assign(new Error('not ready'), { name: 'ModelNotReadyException', $metadata: md(429) }), 'model_unavailable'],
      ['a network error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }), 'model_unavailable'],
      ['a timeout', Object.assign(new Error('Stream timed out'), { name: 'TimeoutError' }), 'model_unavailable'],
      ['an abort', Object.assign(new Error('Request aborted'), { name: 'AbortError' }), 'model_unavailable'],
    ];

    it.each(cases)('maps %s to the right code, keeping the SDK error as cause', async (_label, thrown, code) => {
      mock.on(ConverseCommand).rejects(thrown as Error);
      const error = await failure(model().converse(request()));
      expect(error.code).toBe(code);
      expect(error.cause).toBe(thrown);
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain(credentials.accessKeyId);
      expect(error.message).not.toContain('do-not-leak-this-prompt');
      expect(error.message).not.toContain('123456789012');
      if (code === 'model_throttled') expect(error.message).toBe('Amazon Bedrock is throttling requests right now.');
      else expect(error.message).toContain(SONNET);
      if (code === 'model_denied' && _label !== 'CredentialsProviderError') {
        expect(error.message).toContain('BEDROCK_MODEL_ID');
        expect(error.message).toContain('bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream');
      }
    });

    it('maps errors of ConverseStream the same way', async () => {
      mock.on(ConverseStreamCommand).rejects(new AccessDeniedException({ message: 'no', $metadata: md(403) }));
      const error = await failure(model().converse(request({ onText: () => undefined })));
      expect(error.code).toBe('model_denied');
      expect(error.message).toMatch(/^Amazon Bedrock denied access to model us\.anthropic\.claude-sonnet-4-5-20250929-v1:0 \(AccessDeniedException\)\. Check BEDROCK_MODEL_ID/);
    });
  });
});

describe('BedrockLanguageModel through the real SDK client over HTTP/2 to the fake endpoint', () => {
  const ENV = ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'AWS_PROFILE', 'AWS_BEARER_TOKEN_BEDROCK'] as const;
  const saved = new Map<string, string | undefined>();
  let fake: FakeBedrock;
  const clients: BedrockRuntimeClient[] = [];
  const client = (options: BedrockClientOptions = {}) => {
    const built = createBedrockClient({ retryStrategy: new ConfiguredRetryStrategy(3, () => 5), ...options });
    clients.push(built);
    return built;
  };
  const model = (options: BedrockClientOptions = {}) => new BedrockLanguageModel(SONNET, { client: client(options) });

  beforeAll(() => {
    for (const name of ENV) saved.set(name, process.env[name]);
  });
  beforeEach(async () => {
    fake = await startFakeBedrock();
    for (const name of ENV) delete process.env[name];
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = fake.url;
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  });
  afterEach(async () => {
    for (const built of clients.splice(0)) built.destroy();
    await fake.close();
  });
  afterAll(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('runs a Converse turn with tool use; the body carries maxTokens and both cache points', async () => {
    fake.script({ text: 'Let me check.', toolUses: [{ id: 'tooluse_abc', name: 'get_costs', input: { service: 'EC2', days: 7 } }], usage: { inputTokens: 90, outputTokens: 25, cacheWriteInputTokens: 1500 } });
    const response = await model().converse(request({ messages: toolRoundTrip }));
    expect(response).toEqual({
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'tooluse_abc', name: 'get_costs', input: { service: 'EC2', days: 7 } },
      ],
      stopReason: 'tool_use',
      usage: { input: 90, output: 25, cacheRead: 0, cacheWrite: 1500 },
    });
    expect(fake.requests).toHaveLength(1);
    const received = fake.requests[0]!;
    expect(received).toMatchObject({ modelId: SONNET, stream: false });
    expect(received.path).toBe(`/model/${encodeURIComponent(SONNET)}/converse`);
    expect(String(received.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFAKEBEDROCK\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
    expect(received.body).toMatchObject({
      inferenceConfig: { maxTokens: 1024 },
      system: [{ text: SYSTEM }, { cachePoint: { type: 'default' } }],
      toolConfig: { tools: [{ toolSpec: { name: 'get_costs', inputSchema: { json: costTool.inputSchema } } }, { cachePoint: { type: 'default' } }] },
    });
    expect((received.body.messages as unknown[])[2]).toEqual({
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'tu_1', content: [{ text: '{"total":"12.34"}' }], status: 'success' } },
        { toolResult: { toolUseId: 'tu_2', content: [{ text: 'unknown service' }], status: 'error' } },
      ],
    });
  });

  it('streams a ConverseStream turn: text in several deltas, tool input assembled from fragments', async () => {
    const text = 'EC2 spend rose 12% this week, mostly in payments.';
    const input = { service: 'Amazon Elastic Compute Cloud - Compute', range: { start: '2026-11-01', end: '2026-11-08' } };
    fake.script({ text, toolUses: [{ name: 'get_costs', input }], usage: { inputTokens: 40, outputTokens: 60, cacheReadInputTokens: 1500 } });
    const deltas: string[] = [];
    const response = await model().converse(request({ onText: (d) => deltas.push(d) }));
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(text);
    expect(response).toEqual({
      content: [
        { type: 'text', text },
        { type: 'tool_use', id: 'tooluse_1', name: 'get_costs', input },
      ],
      stopReason: 'tool_use',
      usage: { input: 40, output: 60, cacheRead: 1500, cacheWrite: 0 },
    });
    expect(fake.requests.map((r) => [r.stream, r.path])).toEqual([[true, `/model/${encodeURIComponent(SONNET)}/converse-stream`]]);
    expect(fake.requests[0]!.body).toMatchObject({ inferenceConfig: { maxTokens: 1024 }, system: [{ text: SYSTEM }, { cachePoint: { type: 'default' } }] });
  });

  it('maps a throttlingException sent inside the stream, after the text so far was passed on', async () => {
    fake.script({ text: 'Hello there, world', streamException: { type: 'throttlingException', afterEvents: 3 } });
    const deltas: string[] = [];
    const error = await failure(model().converse(request({ onText: (d) => deltas.push(d) })));
    expect(error.code).toBe('model_throttled');
    expect(error.cause).toBeInstanceOf(ThrottlingException);
    expect(deltas).toEqual(['Hello', ' ther']);
    expect(fake.requests).toHaveLength(1);
  });

  it('leaves an exception that is the first event of the stream to the SDK, which retries it', async () => {
    fake.script({ text: 'lost', streamException: { type: 'throttlingException', afterEvents: 0 } }, { text: 'Second try.' });
    const deltas: string[] = [];
    const response = await model().converse(request({ onText: (d) => deltas.push(d) }));
    expect(response.content).toEqual([{ type: 'text', text: 'Second try.' }]);
    expect(deltas.join('')).toBe('Second try.');
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a stream that goes silent for longer than requestTimeoutMs as model_unavailable', async () => {
    fake.script({ text: 'Hello world', stallAfterEvents: 2 });
    const deltas: string[] = [];
    const started = Date.now();
    const error = await failure(model({ requestTimeoutMs: 300 }).converse(request({ onText: (d) => deltas.push(d) })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(error.code).toBe('model_unavailable');
    // The SDK's HTTP/2 handler ends a timed-out stream quietly; only the missing messageStop tells.
    expect((error.cause as Error).name).toBe('IncompleteStreamError');
    expect(deltas).toEqual(['Hello']);
  });

  it('stops a streamed answer when the caller aborts, as model_unavailable saying it was cancelled', async () => {
    fake.script({ text: 'Hello world', stallAfterEvents: 2 });
    const controller = new AbortController();
    const error = await failure(
      model().converse(request({ signal: controller.signal, onText: () => setTimeout(() => controller.abort(), 20) })),
    );
    expect(error.code).toBe('model_unavailable');
    expect(error.message).toBe(`The request to Amazon Bedrock (model ${SONNET}) was cancelled or timed out.`);
    const again = await failure(model().converse(request({ signal: controller.signal })));
    expect(again.code).toBe('model_unavailable');
    expect((again.cause as Error).name).toBe('AbortError');
    expect(fake.requests).toHaveLength(1);
  });

  it('lets the SDK retry a 429 ThrottlingException, then succeeds', async () => {
    fake.failNext(429, 'ThrottlingException');
    fake.script({ text: 'Done.' });
    const response = await model().converse(request());
    expect(response.content).toEqual([{ type: 'text', text: 'Done.' }]);
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a persistent 503 as model_unavailable after 3 attempts', async () => {
    fake.failNext(503, 'ServiceUnavailableException', 10);
    const error = await failure(model().converse(request()));
    expect(error.code).toBe('model_unavailable');
    expect(error.message).toContain(SONNET);
    expect(error.cause).toBeInstanceOf(ServiceUnavailableException);
    expect((error.cause as ServiceUnavailableException).$metadata).toMatchObject({ httpStatusCode: 503, attempts: 3 });
    expect(fake.requests).toHaveLength(3);
  });

  it('uses 3 attempts with the default retry strategy too', async () => {
    fake.failNext(500, 'InternalServerException', 10);
    const started = Date.now();
    const built = createBedrockClient();
    clients.push(built);
    const error = await failure(new BedrockLanguageModel(SONNET, { client: built }).converse(request({ onText: () => undefined })));
    expect(error.code).toBe('model_unavailable');
    expect(fake.requests).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports 403 AccessDeniedException as model_denied without retrying', async () => {
    fake.failNext(403, 'AccessDeniedException');
    const error = await failure(model().converse(request({ onText: () => undefined })));
    expect(error.code).toBe('model_denied');
    expect(error.cause).toBeInstanceOf(AccessDeniedException);
    expect(error.message).toContain(SONNET);
    expect(error.message).toContain('BEDROCK_MODEL_ID');
    expect(error.message).not.toContain(SECRET);
    expect(fake.requests).toHaveLength(1);
  });

  it('fails loudly (500 with the reason) when the script runs out', async () => {
    const error = await failure(model({ retryStrategy: new ConfiguredRetryStrategy(1) }).converse(request()));
    expect(error.code).toBe('model_unavailable');
    expect((error.cause as Error).message).toMatch(/^fake-bedrock: the script has no turn left for request #1/);
  });

  describe('timeouts', () => {
    let silent: Server;
    let sockets: Socket[];
    let firstBytes: Buffer[];
    beforeEach(async () => {
      sockets = [];
      firstBytes = [];
      silent = createTcpServer((socket) => {
        sockets.push(socket);
        socket.once('data', (chunk: Buffer) => firstBytes.push(chunk));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('gives up on a connection whose TLS handshake never completes when the caller\'s deadline aborts it', async () => {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      const error = await failure(
        model({ endpoint: `https://127.0.0.1:${port}`, retryStrategy: new ConfiguredRetryStrategy(1) }).converse(request({ signal: AbortSignal.timeout(300) })),
      );
      const elapsed = Date.now() - started;
      expect(error.code).toBe('model_unavailable');
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(5_000);
      expect(firstBytes[0]?.[0]).toBe(0x16); // a TLS handshake record: the client did offer TLS
    });
  });
});
