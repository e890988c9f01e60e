/**
 * Same-run A/B of per-request cost: node bench/dist/ab.js <checkout> [<checkout> …]
 *
 * On a shared, loaded machine CPU per request moves by 2× between two runs, so two builds can only be compared in
 * one run: this starts one nats-server, one model server (the floor chain's upstream.mjs) and the floor chain
 * (`../shared/floor-bench`, or $TOKIOS_FLOOR_DIR), plus one Tokios stack (ingress, terminator, connector, each its
 * own process, fabric secret on, LOG_LEVEL warn like the floor bench) per built checkout given, all on that NATS and
 * model server. Then wrk -t1 -c$AB_CONC (16) for $AB_SECONDS (6) per target, in turn, $AB_REPS (3) times, and per
 * target: requests/s, CPU µs per request of each hop process and of nats-server (/proc), NATS messages per request
 * (nats-server's /varz: a figure the machine's load does not move), wake-ups per request (voluntary context switches
 * of the hop processes), and each figure's ratio to the floor chain of the same repetition (median over repetitions).
 * `up` is the shared model server's CPU µs per request: the same request and answer for every target, so it is a meter
 * of the machine's speed during that target's run (it has read 32–61 µs minutes apart on one machine); a target whose
 * `up` stands out from the floor's of the same repetition ran in a slower state, and its ratios say more about the host
 * than about the code.
 * `AB_DETAIL=1` also prints, per repetition and target, each hop's user and system CPU µs and wake-ups per request
 * (system time is the kernel's share: socket reads and writes, epoll).
 * Needs wrk and nats-server; checkouts must be built (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from 'tokios';
import { spawnChild, stopAll, type Child } from './lib/children.js';
import { seededStack } from './lib/seeded-stack.js';
import { until as untilDone } from './lib/wait-http.js';

/** Polls `check` (every 100 ms, at most 60_000 ms) until it holds. */
const until = (what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> => untilDone(what, check, ms, 100);
import { cpuMicros, cpuTimes, wakeups } from './lib/procstat.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPS = Number(process.env.AB_REPS ?? 3);
const SECONDS = Number(process.env.AB_SECONDS ?? 6);
const CONC = Number(process.env.AB_CONC ?? 16);
const FLOOR = process.env.TOKIOS_FLOOR_DIR ?? join(ROOT, '../shared/floor-bench');
/** `AB_PROF=1`: run each Tokios hop under `node --cpu-prof`; profiles land in bench/results/prof-ab/<label>-<hop>.cpuprofile. */
const DETAIL = process.env.AB_DETAIL === '1';
const PROF_DIR = process.env.AB_PROF ? join(ROOT, 'bench/results/prof-ab') : undefined;
const profArgs = (label: string, hop: string): string[] =>
  PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${label}-${hop}.cpuprofile`] : [];

interface Target {
  label: string;
  port: number;
  script: string;
  env: NodeJS.ProcessEnv;
  /** The hop processes: ingress, terminator, connector. */
  hops: Record<'ing' | 'term' | 'conn', Child>;
}

const HOPS = ['ing', 'term', 'conn'] as const;

interface Row {
  rep: number;
  label: string;
  rps: number;
  msgs: number;
  wakeups: number;
  ing: number;
  term: number;
  conn: number;
  nats: number;
  hops: number;
  /** The model server's CPU µs per request (a machine-speed meter, not a hop). */
  up: number;
}

const answers = (url: string) => async (): Promise<boolean> => (await fetch(url)).status > 0;

/** The floor chain's files in a folder of ours whose imports resolve to the project's node_modules (its own is read-only). */
function floorCopy(): string {
  const dir = join(ROOT, 'bench/floor-build-ab');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(FLOOR)) if (statSync(join(FLOOR, f)).isFile()) copyFileSync(join(FLOOR, f), join(dir, f));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

async function varzMessages(monitorPort: number): Promise<number> {
  const v = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as { in_msgs: number };
  return v.in_msgs;
}

function wrk(t: Target): Promise<{ requests: number; rps: number }> {
  return new Promise((resolveRun, reject) => {
    const c = spawn('wrk', ['-t1', `-c${CONC}`, `-d${SECONDS}`, '-s', t.script, `http://127.0.0.1:${t.port}/v1/chat/completions`], { env: t.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), (SECONDS + 30) * 1000);
    c.on('exit', () => {
      clearTimeout(timer);
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      if (!line) return reject(new Error(`wrk gave no result for ${t.label}: ${out.slice(-300)}`));
      const j = JSON.parse(line) as { requests: number; rps: number; errors: number };
      if (j.errors > 0) return reject(new Error(`${t.label}: ${j.errors} wrk errors`));
      resolveRun(j);
    });
  });
}

async function tokiosStack(label: string, checkout: string, natsUrl: string, upstream: string, secret: string, script: string): Promise<Target> {
  const { main, env, ingressPort: ing, terminatorPort: term, apiKey: key, connectorConfig: cfg } = await seededStack(checkout, `ab-${label}`, natsUrl, upstream, secret);
  const termProc = spawnChild(`${label} terminator`, process.execPath, [...profArgs(label, 'terminator'), main, 'terminator'], { env });
  await until(`${label} terminator`, answers(`http://127.0.0.1:${term}/healthz`));
  const ingProc = spawnChild(`${label} ingress`, process.execPath, [...profArgs(label, 'ingress'), main, 'ingress'], { env });
  await until(`${label} ingress`, answers(`http://127.0.0.1:${ing}/healthz`));
  const connProc = spawnChild(`${label} connector`, process.execPath, [...profArgs(label, 'connector'), main, 'connector', '--config', cfg], { env });
  await connProc.waitFor(/Tunnel established/, 60_000);
  return { label, port: ing, script, env: { ...process.env, TOKIOS_KEY: key, TOKIOS_MODEL: 'm' }, hops: { ing: ingProc, term: termProc, conn: connProc } };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const checkouts = process.argv.slice(2).map((p) => resolve(p));
  if (checkouts.length === 0) checkouts.push(ROOT);
  if (!existsSync(join(FLOOR, 'bench.mjs'))) throw new Error(`no floor chain at ${FLOOR} (TOKIOS_FLOOR_DIR)`);
  const dir = floorCopy();
  const [natsPort, monitorPort, upPort, fIng, fTerm] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const nats = spawnChild('nats-server', 'nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitorPort)]);
  await nats.waitFor(/Server is ready/);
  const base = { ...process.env, UP_PORT: String(upPort), INGRESS_PORT: String(fIng), TERM_PORT: String(fTerm), NATS_URL: `127.0.0.1:${natsPort}`, TERM_URL: `ws://127.0.0.1:${fTerm}/`, UP_URL: `http://127.0.0.1:${upPort}` };
  const node = (name: string, file: string, ready: RegExp): Promise<Child> => {
    const c = spawnChild(name, process.execPath, [join(dir, file)], { env: base, cwd: dir });
    return c.waitFor(ready).then(() => c);
  };
  const upstream = await node('upstream', 'upstream.mjs', /upstream/);
  const hops = { term: await node('floor terminator', 'terminator.mjs', /terminator/), conn: await node('floor connector', 'connector.mjs', /connector/), ing: await node('floor ingress', 'ingress.mjs', /ingress/) };
  const targets: Target[] = [{ label: 'floor', port: fIng, script: join(dir, 'post.lua'), env: base, hops }];
  const secret = randomBytes(32).toString('hex');
  const labels = new Set<string>();
  for (const c of checkouts) {
    let label = basename(c);
    while (labels.has(label)) label += "'";
    labels.add(label);
    targets.push(await tokiosStack(label, c, `nats://127.0.0.1:${natsPort}`, `http://127.0.0.1:${upPort}`, secret, join(dir, 'post-tokios.lua')));
  }
  for (const t of targets) await wrk(t); // warm-up: JIT, pools
  const rows: Row[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const t of targets) {
      // In the Row's order (the floor's hops object is built in start order: terminator, connector, ingress).
      const pids = [...HOPS.map((h) => t.hops[h]), nats, upstream].map((c) => c.pid);
      const before = { cpu: pids.map(cpuMicros), times: pids.map(cpuTimes), wake: pids.map(wakeups), msgs: await varzMessages(monitorPort) };
      const w = await wrk(t);
      const cpu = pids.map((p, i) => Math.round((cpuMicros(p) - before.cpu[i]!) / w.requests));
      const wakes = pids.map((p, i) => wakeups(p) - before.wake[i]!);
      const wake = wakes.slice(0, 3).reduce((n, w) => n + w, 0);
      if (DETAIL) {
        const per = (v: number): string => (v / w.requests).toFixed(v / w.requests < 10 ? 2 : 0);
        const hopNames = [...HOPS, 'nats'];
        const cells = pids.slice(0, hopNames.length).map((p, i) => {
          const now = cpuTimes(p);
          return `${hopNames[i]} user ${per(now.user - before.times[i]!.user)} sys ${per(now.sys - before.times[i]!.sys)} wake ${per(wakes[i]!)}`;
        });
        console.error(`  ${t.label} rep ${rep}: ${cells.join(' | ')}`);
      }
      const msgs = (await varzMessages(monitorPort)) - before.msgs;
      const [ing, term, conn, natsCpu, up] = cpu as [number, number, number, number, number];
      const row: Row = { rep, label: t.label, rps: Math.round(w.rps), msgs: msgs / w.requests, wakeups: wake / w.requests, ing, term, conn, nats: natsCpu, hops: ing + term + conn + natsCpu, up };
      rows.push(row);
      console.error(JSON.stringify(row));
    }
  }
  const cols = ['rps', 'hops', 'ing', 'term', 'conn', 'nats', 'msgs', 'wakeups', 'up'] as const;
  const ratio = (r: Row, k: (typeof cols)[number]): number => r[k] / rows.find((f) => f.rep === r.rep && f.label === 'floor')![k];
  const lines = [`wrk -t1 -c${CONC}, ${SECONDS} s per target, ${REPS} repetitions; medians; CPU in µs per request; (x) = ÷ floor, same repetition`];
  lines.push(['target'.padEnd(12), ...cols.map((c) => c.padStart(14))].join(''));
  for (const t of targets) {
    const rs = rows.filter((r) => r.label === t.label);
    const cell = (k: (typeof cols)[number]): string => {
      const v = median(rs.map((r) => r[k]));
      const shown = k === 'msgs' || k === 'wakeups' ? v.toFixed(2) : String(Math.round(v));
      return (t.label === 'floor' ? shown : `${shown} (${median(rs.map((r) => ratio(r, k))).toFixed(2)})`).padStart(14);
    };
    lines.push([t.label.padEnd(12), ...cols.map(cell)].join(''));
  }
  console.log(lines.join('\n'));
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => stopAll(PROF_DIR ? 8_000 : undefined));
