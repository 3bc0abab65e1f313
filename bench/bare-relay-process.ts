/** The bare Node relay in a process of its own, as Perch runs in its own: argv[2] is the upstream URL. */
import { startBareRelay } from './relay.js';

const relay = await startBareRelay(process.argv[2] ?? 'http://127.0.0.1:1');
process.stdout.write(`${relay.url}\n`);
process.on('SIGTERM', () => void relay.close().then(() => process.exit(0)));
