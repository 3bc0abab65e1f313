import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webhookServices } from '../../main/core/webhooks/index.js';
import { trimForSlack } from '../../main/core/webhooks/slack-command.js';
import { startFakeSlack, type FakeSlack } from '../fixtures/fake-slack.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

const SIGNING_SECRET = 'slack-signing-secret-8d3e1f0b';

let perch: TestPerch;
let slack: FakeSlack;

beforeEach(async () => {
  [perch, slack] = await Promise.all([startTestPerch(), startFakeSlack()]);
  perch.service.core.settings.set('slack.signingSecret', SIGNING_SECRET);
});
afterEach(async () => {
  await webhookServices(perch.service.core).jobs.idle();
  await Promise.all([perch.stop(), slack.stop()]);
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const slackSignature = (timestamp: string, body: string, secret = SIGNING_SECRET): string =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

interface CommandOptions {
  timestamp?: number;
  /** null: send no signature header. */
  signature?: string | null;
  responseUrl?: string;
}

function form(text: string, responseUrl: string): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T1',
    channel_id: 'C1',
    user_id: 'U1',
    user_name: 'ada',
    command: '/ask',
    text,
    response_url: responseUrl,
    trigger_id: '1.2.3',
  }).toString();
}

function command(text: string, options: CommandOptions = {}): Promise<Response> {
  const body = form(text, options.responseUrl ?? slack.responseUrl());
  const timestamp = String(options.timestamp ?? nowSeconds());
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': timestamp,
  };
  if (options.signature !== null) headers['x-slack-signature'] = options.signature ?? slackSignature(timestamp, body);
  return fetch(`${perch.url}/webhook/slack`, { method: 'POST', headers, body });
}

const postedBodies = (): unknown[] => slack.posts.map((post) => post.body);

describe('POST /webhook/slack: signatures', () => {
  it('refuses a wrong signature with 401 and asks Claude nothing', async () => {
    const timestamp = String(nowSeconds());
    const res = await command('What is 2 + 2?', { signature: slackSignature(timestamp, 'another body') });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_signature');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(perch.upstream.messageRequests).toEqual([]);
    expect(slack.posts).toEqual([]);
  });

  it('refuses a request without a signature', async () => {
    expect((await command('hi', { signature: null })).status).toBe(401);
  });

  it('refuses a correctly signed request whose timestamp is older than 5 minutes (a replay)', async () => {
    const res = await command('What is 2 + 2?', { timestamp: nowSeconds() - 6 * 60 });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('stale_request');
    expect(body.error.message).toContain('5 minutes');
  });

  it('refuses a timestamp more than 5 minutes in the future', async () => {
    expect((await command('hi', { timestamp: nowSeconds() + 6 * 60 })).status).toBe(401);
  });

  it('says so when no signing secret is configured', async () => {
    perch.service.core.settings.set('slack.signingSecret', '');
    const res = await command('hi');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'npx perch config set slack.signingSecret -',
    );
  });

  it('never shows the signing secret in answers or in the log', async () => {
    const answers = [await command('hi'), await command('hi', { signature: 'v0=bad' }), await command('')];
    await expect.poll(() => slack.posts.length).toBe(1);
    for (const res of answers) expect(await res.text()).not.toContain(SIGNING_SECRET);
    const log = perch.logs.join('');
    expect(log).toContain('/webhook/slack');
    expect(log).not.toContain(SIGNING_SECRET);
  });
});

describe('POST /webhook/slack: answers', () => {
  it('acknowledges within the request with an ephemeral message', async () => {
    const res = await command('What is 2 + 2?');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ response_type: 'ephemeral', text: 'Asking Claude…' });
  });

  it('posts the answer in_channel to the response_url, after asking Claude the question as written', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'It is *4*.' });
    const question = '  What is  2 + 2?\nShow & tell = "yes"  ';
    await command(question, { responseUrl: slack.responseUrl('/commands/T1/42/xyz') });
    await expect.poll(() => slack.posts.length).toBe(1);
    expect(slack.posts[0]).toMatchObject({
      path: '/commands/T1/42/xyz',
      body: { response_type: 'in_channel', text: 'It is *4*.' },
    });
    expect(slack.posts[0]?.headers['content-type']).toMatch(/^application\/json/);
    const request = perch.upstream.messageRequests[0]?.body as {
      model: string;
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(request.messages).toEqual([{ role: 'user', content: question }]);
    expect(request.model).toBe('claude-sonnet-5-5');
  });

  it('records the usage under the slack source', async () => {
    await command('hi');
    await expect.poll(() => slack.posts.length).toBe(1);
    expect(perch.service.core.usage.recent(5).map((row) => row.source)).toContain('slack');
  });

  it('answers an empty command with a usage hint, without asking Claude', async () => {
    const res = await command('   ');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('/ask your question');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(perch.upstream.messageRequests).toEqual([]);
    expect(slack.posts).toEqual([]);
  });

  it('retries once when the first post to the response_url fails', async () => {
    slack.respondWith(503);
    perch.upstream.enqueue({ kind: 'answer', text: 'Second time lucky.' });
    await command('hi');
    await expect.poll(() => slack.posts.length).toBe(2);
    expect(slack.posts.map((post) => post.status)).toEqual([503, 200]);
    expect(postedBodies()).toEqual([
      { response_type: 'in_channel', text: 'Second time lucky.' },
      { response_type: 'in_channel', text: 'Second time lucky.' },
    ]);
  });

  it('retries only once', async () => {
    slack.respondWith(500, 500);
    await command('hi');
    await webhookServices(perch.service.core).jobs.idle();
    expect(slack.posts.map((post) => post.status)).toEqual([500, 500]);
  });

  it('does not retry after a 4xx', async () => {
    slack.respondWith(404);
    await command('hi');
    await webhookServices(perch.service.core).jobs.idle();
    expect(slack.posts.map((post) => post.status)).toEqual([404]);
  });

  it('posts an ephemeral error to the response_url when Claude fails', async () => {
    perch.upstream.enqueue({ kind: 'http-error', status: 400, type: 'invalid_request_error', message: 'prompt is too long' });
    await command('hi');
    await expect.poll(() => slack.posts.length).toBe(1);
    const posted = slack.posts[0]?.body as { response_type: string; text: string };
    expect(posted.response_type).toBe('ephemeral');
    expect(posted.text).toContain('Perch could not get an answer from Claude');
    expect(posted.text).toContain('prompt is too long');
  });

  it('refuses a response_url that is not http(s)', async () => {
    const res = await command('hi', { responseUrl: 'file:///etc/passwd' });
    expect(res.status).toBe(400);
    expect(perch.upstream.messageRequests).toEqual([]);
  });

  it('trims an answer longer than Slack allows, with a note', async () => {
    const long = Array.from({ length: 3000 }, (_, index) => `Line ${index}: ${'x'.repeat(20)}`).join('\n');
    perch.upstream.enqueue({ kind: 'answer', text: long, chunks: 10 });
    await command('hi');
    await expect.poll(() => slack.posts.length).toBe(1);
    const posted = slack.posts[0]?.body as { text: string };
    expect(posted.text.length).toBeLessThanOrEqual(39_000);
    expect(posted.text).toMatch(/trimmed to fit Slack's message limit/);
    expect(posted.text).toContain('Line 0:');
  });
});

describe('trimForSlack', () => {
  it('leaves short answers alone and closes a code block it cuts', () => {
    expect(trimForSlack('short')).toBe('short');
    const trimmed = trimForSlack(`intro\n\`\`\`\n${'code line\n'.repeat(5000)}\`\`\``, 10_000);
    expect(trimmed.length).toBeLessThanOrEqual(10_000);
    expect((trimmed.match(/```/g) ?? []).length % 2).toBe(0);
  });
});
