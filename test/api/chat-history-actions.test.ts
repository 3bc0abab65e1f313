import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeEach(async () => {
  perch = await startTestPerch();
});
afterEach(async () => {
  await perch.stop();
});

interface SavedMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  status: string;
  attachments: Array<{ name: string }>;
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
).toString('base64');

async function ask(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await perch.request('/api/v1/chat', { json: body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function messagesOf(sessionId: string): Promise<SavedMessage[]> {
  const res = await perch.request(`/api/v1/sessions/${sessionId}`);
  return ((await res.json()) as { messages: SavedMessage[] }).messages;
}

/** What Claude was shown in the last request: each turn's role and text. */
function lastConversationSent(): Array<[string, string]> {
  const body = perch.upstream.messageRequests.at(-1)?.body as {
    messages: Array<{ role: string; content: Array<{ type: string; text?: string }> }>;
  };
  return body.messages.map((message) => [
    message.role,
    message.content
      .filter((part) => part.type === 'text')
      .map((part) => part.text)
      .join(''),
  ]);
}

describe('POST /api/v1/chat with replace_from: edit a question or regenerate an answer', () => {
  it('an edited question replaces the old one and every answer after it, and Claude never sees the old one', async () => {
    const first = await ask({ message: 'What is 2 + 2?' });
    const sessionId = first.json.session_id as string;
    await ask({ message: 'And times 3?', session_id: sessionId });
    const [firstQuestion] = await messagesOf(sessionId);

    perch.upstream.enqueue({ kind: 'answer', text: 'Nine.' });
    const edited = await ask({ message: 'What is 3 + 3?', session_id: sessionId, replace_from: firstQuestion?.id });

    expect(edited.status).toBe(200);
    expect(edited.json.response).toBe('Nine.');
    const saved = await messagesOf(sessionId);
    expect(saved.map((message) => [message.role, message.content])).toEqual([
      ['user', 'What is 3 + 3?'],
      ['assistant', 'Nine.'],
    ]);
    expect(lastConversationSent()).toEqual([['user', 'What is 3 + 3?']]);
  });

  it('regenerating (the same question again) keeps its attachments', async () => {
    const first = await ask({
      message: 'Describe this image',
      attachments: [{ name: 'dot.png', media_type: 'image/png', data: PNG }],
    });
    const sessionId = first.json.session_id as string;
    const [question] = await messagesOf(sessionId);

    const again = await ask({ message: 'Describe this image', session_id: sessionId, replace_from: question?.id });

    expect(again.status).toBe(200);
    const saved = await messagesOf(sessionId);
    expect(saved).toHaveLength(2);
    expect(saved[0]?.attachments.map((attachment) => attachment.name)).toEqual(['dot.png']);
    const sent = perch.upstream.messageRequests.at(-1)?.body as { messages: Array<{ content: Array<{ type: string }> }> };
    expect(sent.messages[0]?.content.map((part) => part.type)).toContain('image');
  });

  it('retrying after a failed answer leaves one question and its new answer, not the failure', async () => {
    perch.upstream.enqueue({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' });
    const failed = await ask({ message: 'Hello?' });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const sessionId = (failed.json.error as { session_id?: string }).session_id ?? (failed.json.session_id as string);
    const [question] = await messagesOf(sessionId);

    perch.upstream.enqueue({ kind: 'answer', text: 'Hi!' });
    const retried = await ask({ message: 'Hello?', session_id: sessionId, replace_from: question?.id });

    expect(retried.status).toBe(200);
    expect((await messagesOf(sessionId)).map((message) => [message.role, message.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });

  it('refuses a message that is not a question of that session, and changes nothing', async () => {
    const first = await ask({ message: 'One' });
    const sessionId = first.json.session_id as string;
    const other = await ask({ message: 'Elsewhere' });

    const answerId = first.json.message_id as string;
    const notAQuestion = await ask({ message: 'x', session_id: sessionId, replace_from: answerId });
    const [otherQuestion] = await messagesOf(other.json.session_id as string);
    const fromAnotherSession = await ask({ message: 'x', session_id: sessionId, replace_from: otherQuestion?.id });
    const withoutSession = await ask({ message: 'x', replace_from: otherQuestion?.id });

    expect(notAQuestion.status).toBe(404);
    expect(fromAnotherSession.status).toBe(404);
    expect(withoutSession.status).toBe(400);
    expect((withoutSession.json.error as { message: string }).message).toContain('session_id');
    expect((await messagesOf(sessionId)).map((message) => message.content)).toEqual(['One', 'You said: One']);
  });

  it('refuses while the conversation is still being answered (409), and the answer goes on', async () => {
    const first = await ask({ message: 'First' });
    const sessionId = first.json.session_id as string;
    const [question] = await messagesOf(sessionId);
    perch.upstream.enqueue({ kind: 'answer', text: 'a slow answer', chunks: 10, delayMs: 60 });
    const slow = ask({ message: 'Second', session_id: sessionId });
    await expect.poll(async () => (await messagesOf(sessionId)).some((message) => message.status === 'streaming')).toBe(true);

    const edit = await ask({ message: 'First, edited', session_id: sessionId, replace_from: question?.id });

    expect(edit.status).toBe(409);
    expect((edit.json.error as { type: string }).type).toBe('answer_in_progress');
    expect((await slow).status).toBe(200);
    expect(await messagesOf(sessionId)).toHaveLength(4);
  });
});

describe('GET /api/v1/sessions/:id/attachments/:attachmentId', () => {
  it('gives an image back inline (for thumbnails) and any other file as a download, never as a page', async () => {
    const first = await ask({
      message: 'Two files',
      attachments: [
        { name: 'dot.png', media_type: 'image/png', data: PNG },
        { name: 'page.html', media_type: 'text/html', data: Buffer.from('<script>alert(1)</script>').toString('base64') },
      ],
    });
    const sessionId = first.json.session_id as string;
    const [question] = await messagesOf(sessionId);
    const [image, page] = (question?.attachments ?? []) as Array<{ id: string; name: string }>;

    const imageRes = await perch.request(`/api/v1/sessions/${sessionId}/attachments/${image?.id}`);
    const pageRes = await perch.request(`/api/v1/sessions/${sessionId}/attachments/${page?.id}`);

    expect(imageRes.status).toBe(200);
    expect(imageRes.headers.get('content-type')).toBe('image/png');
    expect(imageRes.headers.get('content-disposition')).toMatch(/^inline/);
    expect(Buffer.from(await imageRes.arrayBuffer()).toString('base64')).toBe(PNG);
    expect(pageRes.headers.get('content-type')).toBe('application/octet-stream');
    expect(pageRes.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(pageRes.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('answers 404 for an attachment of another session, and 401 without the token', async () => {
    const first = await ask({ message: 'A', attachments: [{ name: 'dot.png', media_type: 'image/png', data: PNG }] });
    const other = await ask({ message: 'B' });
    const [question] = await messagesOf(first.json.session_id as string);
    const attachmentId = (question?.attachments[0] as { id: string } | undefined)?.id;

    const elsewhere = await perch.request(`/api/v1/sessions/${other.json.session_id as string}/attachments/${attachmentId}`);
    const anonymous = await fetch(`${perch.url}/api/v1/sessions/${first.json.session_id as string}/attachments/${attachmentId}`);

    expect(elsewhere.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });
});

describe('POST /api/v1/sessions with messages: a conversation to continue from', () => {
  it('saves the exchange as it was, titled from its first question, and Claude sees it on the next turn', async () => {
    const res = await perch.request('/api/v1/sessions', {
      json: {
        messages: [
          { role: 'user', content: 'What meetings do I have today?' },
          { role: 'assistant', content: 'Standup at 9 and a review at 11.' },
        ],
      },
    });
    expect(res.status).toBe(201);
    const session = (await res.json()) as { id: string; title: string };
    expect(session.title).toBe('What meetings do I have today?');
    expect((await messagesOf(session.id)).map((message) => [message.role, message.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);

    await ask({ message: 'Move the review to 2.', session_id: session.id });
    expect(lastConversationSent()).toEqual([
      ['user', 'What meetings do I have today?'],
      ['assistant', 'Standup at 9 and a review at 11.'],
      ['user', 'Move the review to 2.'],
    ]);
  });

  it('refuses messages that do not take turns starting with a question, and creates nothing', async () => {
    const before = ((await (await perch.request('/api/v1/sessions')).json()) as { sessions: unknown[] }).sessions.length;
    const res = await perch.request('/api/v1/sessions', {
      json: { messages: [{ role: 'assistant', content: 'I speak first' }] },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('taking turns');
    const after = ((await (await perch.request('/api/v1/sessions')).json()) as { sessions: unknown[] }).sessions.length;
    expect(after).toBe(before);
  });
});
