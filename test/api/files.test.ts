import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSse, startTestPerch, type TestPerch } from '../helpers/perch.js';

// A real 1×1 PNG and a minimal PDF, so the bytes are what their names say.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01]);

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});
afterEach(() => {
  perch.service.core.settings.reset('api');
});

function upload(
  path: string,
  file: { name: string; data: Buffer; type?: string },
  fields: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  form.set('file', new Blob([file.data], { type: file.type ?? 'application/octet-stream' }), file.name);
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return perch.request(path, { method: 'POST', body: form });
}

type Block = { type: string; text?: string; source?: { type: string; media_type: string; data: string }; title?: string };
const lastUserBlocks = (): Block[] => {
  const body = perch.upstream.messageRequests.at(-1)?.body as { messages: Array<{ role: string; content: Block[] }> };
  return body.messages.at(-1)?.content ?? [];
};

describe('POST /api/v1/file/analyze', () => {
  it('analyzes a code file: the file as text, then the prompt', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'A tiny TypeScript module.' });
    const res = await upload(
      '/api/v1/file/analyze',
      { name: 'add.ts', data: Buffer.from('export const add = (a: number, b: number) => a + b;\n') },
      { prompt: 'What does this do?' },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      analysis: 'A tiny TypeScript module.',
      file: { name: 'add.ts', media_type: 'text/plain', size: 52 },
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
      session_id: expect.stringMatching(/^ses_/),
    });
    expect(lastUserBlocks()).toEqual([
      { type: 'text', text: '<file name="add.ts">\nexport const add = (a: number, b: number) => a + b;\n\n</file>' },
      { type: 'text', text: 'What does this do?' },
    ]);
  });

  it('sends an image as an image block, typed by its bytes', async () => {
    const res = await upload('/api/v1/file/analyze', { name: 'pixel.png', data: PNG, type: 'text/plain' });
    expect(res.status).toBe(200);
    const [image, prompt] = lastUserBlocks();
    expect(image).toEqual({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } });
    expect(prompt?.text).toContain('Analyze this file');
  });

  it('sends a PDF as a document block', async () => {
    const res = await upload('/api/v1/file/analyze', { name: 'report.pdf', data: PDF });
    expect(res.status).toBe(200);
    expect(lastUserBlocks()[0]).toEqual({
      type: 'document',
      title: 'report.pdf',
      source: { type: 'base64', media_type: 'application/pdf', data: PDF.toString('base64') },
    });
  });

  it('streams the analysis when asked', async () => {
    const res = await upload('/api/v1/file/analyze', { name: 'notes.txt', data: Buffer.from('hello') }, { stream: 'true' });
    const events = parseSse(await res.text());
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { analysis: expect.any(String), file: { name: 'notes.txt' } } });
  });

  it('keeps the file in the session so a follow-up question still sees it', async () => {
    const first = (await (await upload('/api/v1/file/analyze', { name: 'pixel.png', data: PNG })).json()) as {
      session_id: string;
    };
    await perch.request('/api/v1/chat', { json: { message: 'What colour is it?', session_id: first.session_id } });
    const body = perch.upstream.messageRequests.at(-1)?.body as { messages: Array<{ role: string; content: Block[] }> };
    expect(body.messages[0]?.content[0]?.type).toBe('image');
    const session = (await (await perch.request(`/api/v1/sessions/${first.session_id}`)).json()) as {
      title: string;
      messages: Array<{ attachments: Array<{ name: string; media_type: string; size: number }> }>;
    };
    expect(session.messages[0]?.attachments).toEqual([
      expect.objectContaining({ name: 'pixel.png', media_type: 'image/png', size: PNG.length }),
    ]);
  });

  it('refuses an unsupported binary with 415 naming what is accepted, and saves nothing', async () => {
    const before = perch.service.core.conversations.counts();
    const upstreamCalls = perch.upstream.messageRequests.length;
    const res = await upload('/api/v1/file/analyze', { name: 'archive.zip', data: ZIP });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('unsupported_media_type');
    expect(body.error.message).toContain('PNG');
    expect(perch.upstream.messageRequests.length).toBe(upstreamCalls);
    expect(perch.service.core.conversations.counts()).toEqual(before);
  });

  it('refuses an upload over api.maxUploadMb with 413, before looking at the file type', async () => {
    perch.service.core.settings.set('api.maxUploadMb', 1);
    const before = perch.service.core.conversations.counts();
    const huge = Buffer.alloc(1024 * 1024 + 1, 0); // binary too: the size is checked first
    const res = await upload('/api/v1/file/analyze', { name: 'huge.bin', data: huge });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error).toMatchObject({ type: 'request_too_large' });
    expect(body.error.message).toContain('api.maxUploadMb');
    expect(perch.service.core.conversations.counts()).toEqual(before);
  });

  it('asks for the file field when it is missing', async () => {
    const form = new FormData();
    form.set('prompt', 'no file here');
    const res = await perch.request('/api/v1/file/analyze', { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("'file'");
  });

  it('refuses JSON on the upload route with 415', async () => {
    const res = await perch.request('/api/v1/file/analyze', { json: { file: 'x' } });
    expect(res.status).toBe(415);
  });

  it('answers 400 for a malformed multipart body', async () => {
    const res = await perch.request('/api/v1/file/analyze', {
      method: 'POST',
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('attachments on chat', () => {
  it('accepts base64 attachments in the JSON body', async () => {
    const res = await perch.request('/api/v1/chat', {
      json: {
        message: 'Describe it',
        attachments: [{ name: 'pixel.png', media_type: 'image/png', data: PNG.toString('base64') }],
      },
    });
    expect(res.status).toBe(200);
    expect(lastUserBlocks().map((block) => block.type)).toEqual(['image', 'text']);
  });

  it('refuses attachment data that is not base64', async () => {
    const res = await perch.request('/api/v1/chat', { json: { message: 'x', attachments: [{ name: 'a', data: '***' }] } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("'attachments.0.data'");
  });
});

describe('POST /api/v1/code/review', () => {
  it('reviews code with a reviewer system prompt and the code fenced in the question', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Line 1: division by zero when b is 0.' });
    const res = await perch.request('/api/v1/code/review', {
      json: { code: 'const div = (a, b) => a / b;', language: 'javascript', focus: 'edge cases' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      review: 'Line 1: division by zero when b is 0.',
      language: 'javascript',
      session_id: expect.any(String),
    });
    const body = perch.upstream.messageRequests.at(-1)?.body as { system: string; messages: Array<{ content: Block[] }> };
    expect(body.system).toContain('reviewing code');
    const question = body.messages[0]?.content[0]?.text ?? '';
    expect(question).toContain('Focus on: edge cases.');
    expect(question).toContain('```javascript\nconst div = (a, b) => a / b;\n```');
  });

  it('uses a longer fence when the code itself contains backticks', async () => {
    await perch.request('/api/v1/code/review', { json: { code: 'const s = `a ``` b`;', language: 'ts' } });
    const body = perch.upstream.messageRequests.at(-1)?.body as { messages: Array<{ content: Block[] }> };
    expect(body.messages[0]?.content[0]?.text).toContain('````ts\n');
  });

  it('requires code and language', async () => {
    const res = await perch.request('/api/v1/code/review', { json: { code: '' } });
    expect(res.status).toBe(400);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toContain("'code'");
    expect(message).toContain("'language'");
  });
});
