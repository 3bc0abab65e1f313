import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as shapes from '../../main/api/response-schemas.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

type Document = { openapi: string; paths: Record<string, Record<string, unknown>> };
const fetchDocument = async (): Promise<Document> => (await (await perch.request('/api/v1/openapi.json')).json()) as Document;

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes exactly the routes the service serves', async () => {
    const documented = Object.entries((await fetchDocument()).paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const served = perch.service
      .routes()
      .map(({ method, path }) => `${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(documented).toEqual(served);
  });

  it('builds request schemas from the validating zod schemas', async () => {
    const chat = (await fetchDocument()).paths['/api/v1/chat']?.post as {
      requestBody: { content: { 'application/json': { schema: { required: string[]; properties: Record<string, unknown> } } } };
    };
    const schema = chat.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['message']);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['message', 'session_id', 'system', 'context', 'model', 'max_tokens', 'stream', 'attachments']),
    );
  });

  it('requires the token', async () => {
    expect((await fetch(`${perch.url}/api/v1/openapi.json`)).status).toBe(401);
  });
});

describe('documented response shapes match real answers', () => {
  const matches = async (schema: z.ZodType, res: Promise<Response>): Promise<void> => {
    const body: unknown = await (await res).json();
    const parsed = schema.safeParse(body);
    expect(parsed.error?.issues ?? [], JSON.stringify(body)).toEqual([]);
  };

  it('for chat, sessions, search and their seed paths', async () => {
    const answer = (await (await perch.request('/api/v1/chat', { json: { message: 'shape check' } })).clone().json()) as {
      session_id: string;
    };
    await matches(
      shapes.chatAnswer,
      perch.request('/api/v1/chat', { json: { message: 'again', session_id: answer.session_id } }),
    );
    await matches(shapes.legacyChatAnswer, perch.request('/api/chat', { json: { message: 'seed' } }));
    await matches(shapes.sessionList, perch.request('/api/v1/sessions'));
    await matches(shapes.sessionWithMessages, perch.request(`/api/v1/sessions/${answer.session_id}`));
    await matches(shapes.session, perch.request('/api/v1/sessions', { json: { title: 'Made by hand' } }));
    await matches(shapes.searchResults, perch.request('/api/v1/sessions/search?q=shape'));
  });

  it('for files and code', async () => {
    const form = new FormData();
    form.set('file', new Blob(['hello']), 'hello.txt');
    await matches(shapes.fileAnalysis, perch.request('/api/v1/file/analyze', { method: 'POST', body: form }));
    const legacy = new FormData();
    legacy.set('file', new Blob(['hello']), 'hello.txt');
    await matches(shapes.legacyUpload, perch.request('/api/file/upload', { method: 'POST', body: legacy }));
    await matches(shapes.codeReview, perch.request('/api/v1/code/review', { json: { code: 'x = 1', language: 'python' } }));
  });

  it('for health, status, models and errors', async () => {
    await matches(shapes.publicHealth, fetch(`${perch.url}/api/v1/health`));
    await matches(shapes.serviceStatus, perch.request('/api/v1/status'));
    await matches(shapes.legacyStatus, perch.request('/api/status'));
    await matches(shapes.modelList, perch.request('/api/v1/models'));
    await matches(shapes.compatModelList, perch.request('/v1/models'));
    await matches(shapes.compatModel, perch.request('/v1/models/claude-sonnet-5-5'));
    await matches(shapes.errorResponse, perch.request('/api/v1/sessions/ses_missing'));
  });
});
