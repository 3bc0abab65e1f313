/** The fake Anthropic upstream in a process of its own, so it does not share the bench's event loop. */
import { startFakeAnthropic } from '../test/fixtures/fake-anthropic.js';

const upstream = await startFakeAnthropic({ apiKey: process.argv[2] ?? 'sk-ant-bench' });
process.stdout.write(`${upstream.url}\n`);
// Requests are recorded for tests; a benchmark would only grow that list, so drop it as it goes.
setInterval(() => upstream.requests.splice(0), 1000).unref();
process.on('SIGTERM', () => void upstream.stop().then(() => process.exit(0)));
