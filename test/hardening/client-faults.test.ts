import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../fixtures/fake-anthropic.js';
import { parseSse, startTestPerch, type TestPerch } from '../helpers/perch.js';
import { expectHealthy, rawExchange, sleep } from './harness.js';

/**
 * Clients that misbehave: they hang up mid-answer (the upstream request must be aborted at
 * once: nobody will read it, and it costs money), they send slowly (slowloris: cut off by the
 * header and request timeouts), and they open connections by the hundred (bounded). The
 * service keeps serving everyone else throughout.
 */

const FAST_TIMEOUTS = { headersMs: 600, requestMs: 1_500, keepAliveMs: 500, checkIntervalMs: 100 };

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch({ http: { httpTimeouts: FAST_TIMEOUTS } });
});
afterAll(async () => {
  await perch.stop();
});

/** Sends a request and hangs up as soon as the first bytes of the answer arrive (or after `afterMs` for answers that never start). */
function hangUpMidAnswer(path: string, body: unknown, options: { afterMs?: number } = {}): Promise<string> {
  const url = new URL(perch.url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: {
          authorization: `Bearer ${perch.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          'anthropic-version': '2023-06-01',
        },
      },
      (res) => {
        res.setEncoding('utf8');
        let received = '';
        res.on('data', (chunk: string) => {
          received += chunk;
          // Wait for some text, so there is something to save as partial.
          if (/delta/.test(received)) {
            req.destroy();
            resolve(received);
          }
        });
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end(text);
    if (options.afterMs !== undefined) {
      setTimeout(() => {
        req.destroy();
        resolve('');
      }, options.afterMs);
    }
  });
}

const LONG_TEXT = 'word '.repeat(60);
const longAnswer: Scenario = { kind: 'answer', text: LONG_TEXT, chunks: 60, delayMs: 20 };
const messagesBody = (stream: boolean): Record<string, unknown> => ({
  model: 'claude-sonnet-5-5',
  max_tokens: 100,
  stream,
  messages: [{ role: 'user', content: 'Tell me a long story' }],
});

const DISCONNECTS: Array<{ name: string; path: string; body: unknown; scenario: Scenario; chat: boolean; afterMs?: number }> = [
  {
    name: 'a streamed chat',
    path: '/api/v1/chat',
    body: { message: 'Tell me a long story', stream: true },
    scenario: longAnswer,
    chat: true,
  },
  {
    name: 'a JSON chat still waiting for its answer',
    path: '/api/v1/chat',
    body: { message: 'Tell me a long story' },
    scenario: { kind: 'stall', textBefore: 'Once' },
    chat: true,
    afterMs: 200,
  },
  { name: 'a streamed /v1/messages', path: '/v1/messages', body: messagesBody(true), scenario: longAnswer, chat: false },
  {
    name: 'a JSON /v1/messages still waiting for its answer',
    path: '/v1/messages',
    body: messagesBody(false),
    scenario: { kind: 'stall' },
    chat: false,
    afterMs: 200,
  },
  {
    name: 'a streamed /v1/chat/completions',
    path: '/v1/chat/completions',
    body: { model: 'claude-sonnet-5-5', stream: true, messages: [{ role: 'user', content: 'Tell me a long story' }] },
    scenario: longAnswer,
    chat: false,
  },
];

describe('a client that hangs up mid-answer', () => {
  for (const { name, path, body, scenario, chat, afterMs } of DISCONNECTS) {
    it(`on ${name}: the upstream request is aborted at once, and the service stays healthy`, async () => {
      const aborts = perch.upstream.clientAborts;
      const calls = perch.upstream.messageRequests.length;
      perch.upstream.enqueue(scenario);
      const received = await hangUpMidAnswer(path, body, afterMs === undefined ? {} : { afterMs });
      await perch.upstream.waitForClientAbort(aborts + 1);
      expect(perch.upstream.messageRequests.length - calls).toBe(1);
      await expect.poll(() => perch.service.core.upstreamGate.inFlight).toBe(0);
      await expect.poll(() => perch.service.core.chat.activeAnswers).toBe(0);
      if (chat && received !== '') {
        const { session_id } = parseSse(received)[0]?.data as { session_id: string };
        const res = await perch.request(`/api/v1/sessions/${session_id}`);
        const { messages } = (await res.json()) as { messages: Array<{ status: string; content: string }> };
        expect(messages[1]?.status).toBe('partial');
        expect(LONG_TEXT.startsWith(messages[1]?.content ?? 'x')).toBe(true);
      }
      await expectHealthy(perch);
      expect((await perch.request('/api/v1/chat', { json: { message: 'next' } })).status).toBe(200);
    });
  }

  it('while waiting in line for an upstream slot: it leaves the line and no upstream request is made for it', async () => {
    perch.service.core.settings.set('claude.maxConcurrentRequests', 1);
    try {
      const calls = perch.upstream.messageRequests.length;
      perch.upstream.enqueue({ kind: 'stall', textBefore: 'Holding the only slot' });
      const holder = new AbortController();
      const held = perch
        .request('/api/v1/chat', { json: { message: 'hold', stream: true }, signal: holder.signal })
        .then((res) => res.text())
        .catch(() => '');
      await expect.poll(() => perch.service.core.upstreamGate.inFlight).toBe(1);
      await hangUpMidAnswer('/v1/messages', messagesBody(true), { afterMs: 150 });
      await hangUpMidAnswer('/api/v1/chat', { message: 'queued', stream: true }, { afterMs: 150 });
      await expect.poll(() => perch.service.core.upstreamGate.waiting).toBe(0);
      holder.abort();
      await held;
      await expect.poll(() => perch.service.core.upstreamGate.inFlight).toBe(0);
      expect(perch.upstream.messageRequests.length - calls).toBe(1);
      await expectHealthy(perch);
    } finally {
      perch.service.core.settings.reset('claude.maxConcurrentRequests');
    }
  });
});

describe('a client that sends slowly (slowloris)', () => {
  it('is cut off with 408 when its headers take longer than the header timeout, while others are served', async () => {
    const lines = ['GET /api/v1/sessions HTTP/1.1\r\n', `Host: ${new URL(perch.url).host}\r\n`];
    for (let index = 0; index < 40; index += 1) lines.push(`X-Slow-${index}: drip\r\n`);
    const slow = rawExchange(perch.url, { pieces: lines, gapMs: 100, then: 'wait', waitMs: 5_000 });
    await sleep(200);
    expect((await perch.request('/api/v1/sessions')).status).toBe(200);
    const result = await slow;
    expect(result.closedByServer).toBe(true);
    expect(result.status).toBe(408);
    expect(JSON.parse(result.body)).toMatchObject({ error: { type: 'request_timeout' } });
    await expectHealthy(perch);
  });

  it('is cut off when it never sends a byte', async () => {
    const result = await rawExchange(perch.url, { pieces: [], then: 'wait', waitMs: 5_000 });
    expect(result.closedByServer).toBe(true);
  });

  for (const path of ['/api/v1/chat', '/v1/messages', '/api/v1/file/analyze']) {
    it(`is cut off when its body on ${path} takes longer than the request timeout, and nothing is saved`, async () => {
      const counts = perch.service.core.conversations.counts();
      const calls = perch.upstream.messageRequests.length;
      const aborts = perch.upstream.clientAborts;
      const { host } = new URL(perch.url);
      const type = path.endsWith('analyze') ? 'multipart/form-data; boundary=b' : 'application/json';
      const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${perch.token}\r\nContent-Type: ${type}\r\nContent-Length: 1000\r\n\r\n`;
      const drip = Array.from({ length: 60 }, () => ' ');
      const slow = rawExchange(perch.url, { pieces: [head, ...drip], gapMs: 100, then: 'wait', waitMs: 8_000 });
      await sleep(300);
      expect((await perch.request('/api/v1/chat', { json: { message: 'meanwhile' } })).status).toBe(200);
      const result = await slow;
      expect(result.closedByServer).toBe(true);
      if (result.status !== undefined) expect([400, 408]).toContain(result.status);
      expect(perch.service.core.conversations.counts().messages).toBe(counts.messages + 2);
      // The relay asks Claude only once a body is whole, so nothing was started upstream to abort.
      expect(perch.upstream.clientAborts).toBe(aborts);
      await expect.poll(() => perch.service.core.upstreamGate.inFlight).toBe(0);
      // Only the request made meanwhile reached Claude whole.
      expect(perch.upstream.messageRequests.length - calls).toBe(1);
      await expectHealthy(perch);
    });
  }

  it('has its idle keep-alive connection closed after the keep-alive timeout', async () => {
    const { host } = new URL(perch.url);
    const result = await rawExchange(perch.url, {
      pieces: [`GET /api/v1/health HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
      then: 'wait',
      waitMs: 5_000,
    });
    expect(result.status).toBe(200);
    expect(result.closedByServer).toBe(true);
  });
});

/** Opens `count` connections that send nothing; resolves once each has connected (or been closed). */
function openIdleSockets(baseUrl: string, count: number): Promise<net.Socket[]> {
  const { port } = new URL(baseUrl);
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(Number(port), '127.0.0.1');
          socket.on('error', () => undefined);
          // Flowing, so a close from the server is seen.
          socket.resume();
          socket.once('connect', () => resolve(socket));
          socket.once('close', () => resolve(socket));
        }),
    ),
  );
}

const isOpen = (socket: net.Socket): boolean => !socket.destroyed && !socket.readableEnded;

const serverConnections = (service: TestPerch): Promise<number> =>
  new Promise((resolve, reject) => {
    service.service.server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
  });

describe('a client that opens many connections', () => {
  it('gets 500 idle connections, which the header timeout closes, while a normal request is served meanwhile', async () => {
    const sockets = await openIdleSockets(perch.url, 500);
    try {
      await expect.poll(() => serverConnections(perch)).toBeGreaterThanOrEqual(500);
      expect((await perch.request('/api/v1/chat', { json: { message: 'among the crowd' } })).status).toBe(200);
      await expect.poll(() => sockets.filter(isOpen).length, { timeout: 5_000 }).toBe(0);
      await expect.poll(() => serverConnections(perch)).toBeLessThan(5);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await expectHealthy(perch);
  });

  it('is bounded by the connection limit: beyond it new connections are closed at once, and the service recovers', async () => {
    const bounded = await startTestPerch({ upstream: perch.upstream, http: { maxConnections: 50 } });
    try {
      const sockets = await openIdleSockets(bounded.url, 200);
      try {
        await expect.poll(() => sockets.filter(isOpen).length).toBeLessThanOrEqual(50);
        expect(await serverConnections(bounded)).toBeLessThanOrEqual(50);
      } finally {
        for (const socket of sockets) socket.destroy();
      }
      await expect.poll(() => serverConnections(bounded)).toBe(0);
      await expectHealthy(bounded);
      expect((await bounded.request('/api/v1/chat', { json: { message: 'room again' } })).status).toBe(200);
    } finally {
      await bounded.stop();
    }
  });

  it('is bounded by default (1024 connections)', () => {
    expect(perch.service.server.maxConnections).toBe(1024);
  });
});
