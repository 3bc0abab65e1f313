/**
 * `npm run bench`: Perch's overhead, footprint and speed, measured on this machine against the
 * fake Anthropic upstream (so only Perch's own cost is measured). Each group writes
 * bench/results/<group>.json; docs/benchmarks.md explains them.
 *
 *   npm run bench                       every group, short versions (under 5 minutes)
 *   npm run bench -- --full             the long versions
 *   npm run bench -- --only relay,streams
 *   npm run bench -- --build DIR          another build of Perch (its bin/perch.js), e.g. the one before a change
 */
import path from 'node:path';
import { API_KEY, root, saveResult, startBareRelayProcess, startPerch, startUpstream } from './common.js';
import { measureFootprint } from './footprint.js';
import { measureHistory } from './history.js';
import { measureRelay } from './relay.js';
import { measureStreams } from './streams.js';
import { measureTasks } from './tasks.js';
import { measureUi } from './ui.js';

const GROUPS = ['relay', 'streams', 'footprint', 'history', 'ui', 'tasks'] as const;
type Group = (typeof GROUPS)[number];

const full = process.argv.includes('--full');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? undefined : new Set((process.argv[onlyIndex + 1] ?? '').split(','));
const selected = GROUPS.filter((group) => !only || only.has(group));
const buildIndex = process.argv.indexOf('--build');
const build = buildIndex === -1 ? undefined : path.resolve(process.argv[buildIndex + 1] ?? '.');
const bin = build && path.join(build, 'bin/perch.js');
if (only) for (const name of only) if (!(GROUPS as readonly string[]).includes(name)) throw new Error(`unknown group ${name}`);

/** The rate limit is off for every measurement: it would refuse the load itself. */
const NO_RATE_LIMIT = { 'rateLimit.requestsPerMinute': '0' };

/**
 * The relay against the bare one, which has no bound on calls at once: Perch's bound
 * (claude.maxConcurrentRequests, 16 as installed) goes to 64 so that at 64 connections both have
 * every request in flight. With 16, the other 48 wait in line (`bench/compare.ts --connections 64`).
 */
const RELAY_SETTINGS = { ...NO_RATE_LIMIT, 'claude.maxConcurrentRequests': '64' };

async function relay(): Promise<Record<string, unknown>> {
  const upstream = await startUpstream();
  const bare = await startBareRelayProcess(upstream.url);
  const perch = await startPerch({ upstreamUrl: upstream.url, settings: RELAY_SETTINGS, bin });
  try {
    const figures = await measureRelay(
      {
        direct: { url: upstream.url, key: API_KEY, pid: upstream.pid },
        bare: { url: bare.url, key: API_KEY, pid: bare.pid },
        perch: { url: perch.url, key: perch.token, pid: perch.pid },
      },
      full
        ? { rounds: 10_000, streamRounds: 1000, slices: 5, sliceSeconds: 4, streamDeltas: 10, streamDelayMs: 2 }
        : { rounds: 3000, streamRounds: 200, slices: 3, sliceSeconds: 2, streamDeltas: 10, streamDelayMs: 2 },
    );
    return { perchSettings: RELAY_SETTINGS, ...figures };
  } finally {
    await perch.stop();
    await bare.stop();
    await upstream.stop();
  }
}

const runs: Record<Group, () => Promise<Record<string, unknown>>> = {
  relay,
  streams: () => measureStreams({ full, settings: NO_RATE_LIMIT, bin }),
  footprint: () => measureFootprint({ full, settings: NO_RATE_LIMIT, bin }),
  history: () => Promise.resolve(measureHistory()),
  ui: () => measureUi(path.join(root, 'out/renderer')),
  tasks: () => measureTasks({ full, settings: NO_RATE_LIMIT, bin }),
};

const started = performance.now();
for (const group of selected) {
  const groupStarted = performance.now();
  const figures = await runs[group]();
  saveResult(group, {
    full,
    ...(build ? { build } : {}),
    seconds: Math.round((performance.now() - groupStarted) / 1000),
    ...figures,
  });
}
console.log(`bench: ${selected.join(', ')} in ${Math.round((performance.now() - started) / 1000)} s`);
