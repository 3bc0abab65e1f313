import { describe, expect, it } from 'vitest';
import { ConversationStore } from '../../main/core/storage/conversation-store.js';
import { openDatabase } from '../../main/core/storage/database.js';
import { parseSse, startTestPerch } from '../helpers/perch.js';
import path from 'node:path';

describe('graceful stop', () => {
  it('saves an answer still streaming after the grace period as partial, and tells the client', async () => {
    const perch = await startTestPerch();
    const dataDir = perch.dataDir;
    perch.upstream.enqueue({ kind: 'stall', textBefore: 'Partway through' });
    const response = await perch.request('/api/v1/chat', { json: { message: 'long question', stream: true } });
    // Read until the text has arrived, then stop the service with the answer still open.
    const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    // The fake sends "Partway " and "through" as two deltas.
    while (!received.includes('"text":"through"')) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value;
    }
    await perch.service.stop({ graceMs: 100 });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value;
    }

    const events = parseSse(received);
    const last = events.at(-1);
    expect(last).toMatchObject({ event: 'error', data: { error: { type: 'shutdown' }, partial_response: 'Partway through' } });
    const { message_id } = events[0]?.data as { message_id: string };

    const db = openDatabase(path.join(dataDir, 'perch.db'));
    try {
      expect(new ConversationStore(db).message(message_id)).toMatchObject({ status: 'partial', content: 'Partway through' });
    } finally {
      db.close();
      await perch.upstream.stop();
    }
  });
});
