import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let perch: TestPerch;
let openai: OpenAI;
beforeAll(async () => {
  perch = await startTestPerch();
  // Exactly how editors are configured: an "OpenAI-compatible base URL" and a key.
  openai = new OpenAI({ baseURL: `${perch.url}/v1`, apiKey: perch.token, maxRetries: 0 });
});
afterAll(async () => {
  await perch.stop();
});

type UpstreamBody = {
  model: string;
  system?: string;
  max_tokens: number;
  temperature?: number;
  stop_sequences?: string[];
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
  tools?: Array<Record<string, unknown>>;
  tool_choice?: Record<string, unknown>;
};
const lastUpstreamBody = (): UpstreamBody => perch.upstream.messageRequests.at(-1)?.body as UpstreamBody;

describe('POST /v1/chat/completions with the openai SDK', () => {
  it('answers a conversation, mapping system and developer messages to the system prompt', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Bonjour !' });
    const completion = await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'Say hello' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'In French please' },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Bonjour !' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    const body = lastUpstreamBody();
    expect(body.system).toBe('You are terse.\n\nAnswer in French.');
    expect(body.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('maps max_completion_tokens, temperature (clamped to 1) and stop', async () => {
    await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'x' }],
      max_completion_tokens: 77,
      temperature: 1.7,
      stop: ['END'],
    });
    expect(lastUpstreamBody()).toMatchObject({ max_tokens: 77, temperature: 1, stop_sequences: ['END'] });
  });

  it('sends image parts with data URLs as image blocks', async () => {
    await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: PNG_DATA_URL } },
          ],
        },
      ],
    });
    expect(lastUpstreamBody().messages[0]?.content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_DATA_URL.split(',')[1] } },
    ]);
  });

  it('streams chunks with the role first, text pieces, a finish reason, usage and [DONE]', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'One two three four five.', chunks: 5 });
    const stream = await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('One two three four five.');
    const finishing = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(finishing?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('translates tools, and returns tool calls with JSON arguments', async () => {
    perch.upstream.enqueue({
      kind: 'tool-use',
      tool: { id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', unit: 'c' } },
    });
    const completion = await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(lastUpstreamBody().tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ]);
    expect(lastUpstreamBody().tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' } },
    ]);
  });

  it('streams tool calls that the SDK reassembles', async () => {
    perch.upstream.enqueue({
      kind: 'tool-use',
      text: 'Let me check.',
      tool: { id: 'toolu_2', name: 'lookup', input: { q: 'perch' } },
    });
    const runner = openai.chat.completions.stream({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'look it up' }],
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
      ],
    });
    const completion = await runner.finalChatCompletion();
    const message = completion.choices[0]?.message;
    expect(message?.content).toBe('Let me check.');
    expect(message?.tool_calls?.[0]).toMatchObject({ id: 'toolu_2', function: { name: 'lookup', arguments: '{"q":"perch"}' } });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('sends tool results back as tool_result blocks after the tool_use', async () => {
    await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_9', content: '18°C and sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    });
    expect(lastUpstreamBody().messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: '18°C and sunny' }] },
    ]);
  });

  it('records usage under the openai source', async () => {
    await openai.chat.completions.create({ model: 'claude-haiku-5-5', messages: [{ role: 'user', content: 'x' }] });
    const row = perch.service.core.usage.recent(10).find((candidate) => candidate.source === 'openai');
    expect(row?.model).toBe('claude-haiku-5-5');
  });
});

describe('errors through the openai SDK', () => {
  it('relays an upstream rate limit as 429 (RateLimitError)', async () => {
    perch.upstream.enqueue({ kind: 'http-error', status: 429, type: 'rate_limit_error', message: 'slow down' });
    const error = await openai.chat.completions
      .create({ model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('slow down');
  });

  it('answers a request it cannot honour with 400 naming the field', async () => {
    const error = (await openai.chat.completions
      .create({ model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'x' }], n: 2 })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toContain("'n'");
    // OpenAI's SDKs read the field at fault from `param`.
    expect(error.param).toBe('n');
  });

  it('fails a stream before it starts with a real HTTP status', async () => {
    perch.upstream.enqueue({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' });
    const attempt = openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await expect(attempt).rejects.toMatchObject({ status: 503 });
  });

  it('raises an error for a stream that breaks mid-answer', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'partial' });
    const stream = await openai.chat.completions.create({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const read = async (): Promise<number> => {
      let chunks = 0;
      for await (const chunk of stream) chunks += chunk.choices.length;
      return chunks;
    };
    await expect(read()).rejects.toThrow('Anthropic closed the connection before the answer finished.');
  });

  it('refuses a wrong token with AuthenticationError', async () => {
    const stranger = new OpenAI({ baseURL: `${perch.url}/v1`, apiKey: 'perch_wrong', maxRetries: 0 });
    await expect(
      stranger.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('GET /v1/models with the openai SDK', () => {
  it('lists the same models', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(['claude-sonnet-5-5', 'claude-haiku-5-5']);
    const model = await openai.models.retrieve('claude-sonnet-5-5');
    expect(model).toMatchObject({ id: 'claude-sonnet-5-5', object: 'model', owned_by: 'anthropic' });
  });

  it('never returns the Anthropic key', async () => {
    const completion = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(JSON.stringify(completion)).not.toContain(TEST_API_KEY);
  });
});
