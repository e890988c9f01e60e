/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file.
 *   node bench/dist/prof-summary.js <file.cpuprofile> [top=40]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: prof-summary <file.cpuprofile> [top]');
const top = Number(topArg ?? 40);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const shortUrl = (u: string): string => {
  if (!u) return '';
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 13);
  const w = /\/(services|shared|bench)\//.exec(u);
  return w ? u.slice(w.index + 1).replace(/^file:\/\//, '') : u.replace('node:', '');
};
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const url = shortUrl(n.callFrame.url);
  const key = `${n.callFrame.functionName || '(anon)'}  ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  const group = !url ? n.callFrame.functionName : url.startsWith('services/') || url.startsWith('shared/') ? url : url.split('/').slice(0, url.startsWith('@') ? 2 : 1).join('/');
  pkg.set(group, (pkg.get(group) ?? 0) + t);
}
const show = (m: Map<string, number>, n: number): string =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`).join('\n');
// Inclusive time: a sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: Node): string => {
  const url = shortUrl(n.callFrame.url);
  return `${n.callFrame.functionName || '(anon)'}  ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
};
const incl = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n\n-- by package/file --\n${show(pkg, 25)}\n\n-- by function (self) --\n${show(fn, top)}\n\n-- by function (inclusive) --\n${show(incl, top)}\n`);
