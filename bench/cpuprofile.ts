/**
 * The functions and files with the most self time in a V8 .cpuprofile (`node --cpu-prof`).
 *
 *   npx tsx bench/cpuprofile.ts FILE.cpuprofile [count=40]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

export function summarizeProfile(file: string, count = 40): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const hits = new Map<number, number>();
  for (const sample of profile.samples) hits.set(sample, (hits.get(sample) ?? 0) + 1);
  const total = profile.samples.length;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, value: number): void => {
    map.set(key, (map.get(key) ?? 0) + value);
  };
  for (const node of profile.nodes) {
    const samples = hits.get(node.id) ?? 0;
    if (samples === 0) continue;
    const where = node.callFrame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'node_modules/');
    add(byFunction, `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`, samples);
    const group = where.startsWith('node:') ? where : where.replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*/, '$1');
    add(byFile, group || '(native)', samples);
  }
  // Inclusive time of the service's own functions (and what they call), each counted once per sample.
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const inclusive = new Map<string, number>();
  for (const [id, samples] of hits) {
    const seen = new Set<string>();
    for (let node = byId.get(id); node; node = parent.get(node.id)) {
      const where = node.callFrame.url.replace(/^file:\/\//, '');
      if (!where.includes('/out/main/')) continue;
      const key = `${node.callFrame.functionName || '(anonymous)'} ${where.replace(/.*\/out\/main\//, '')}:${node.callFrame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, samples);
    }
  }
  const top = (map: Map<string, number>, n: number): string =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, samples]) => `${((samples / total) * 100).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return `Self time by function (${total} samples):\n${top(byFunction, count)}\n\nSelf time by file or package:\n${top(byFile, 25)}\n\nInclusive time of the service's own functions:\n${top(inclusive, count)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: npx tsx bench/cpuprofile.ts FILE.cpuprofile [count]');
  console.log(summarizeProfile(file, Number(process.argv[3] ?? 40)));
}
