/**
 * Instructions per request of one Tokios hop, under valgrind's callgrind: node bench/dist/instr.js <checkout> [<checkout> …]
 *
 * CPU time per request on a shared machine moves by 2× between runs and within one (other engineers' suites, steal
 * time): too much to see a 5 % change. An instruction count does not move with load. Per checkout this starts one
 * stack on one nats-server and model server (the floor chain's upstream.mjs, as ab.js): terminator and connector as
 * usual, the hop under test (`INSTR_HOP`: ingress, the default, or terminator / connector) under
 * `valgrind --tool=callgrind`, then sends `INSTR_WARM` (2,000) requests to warm the JIT, zeroes the counters, sends
 * `INSTR_REQUESTS` (2,000) more and dumps: instructions (Ir) per request of the hop's process, user space, GC and
 * JIT included: the main thread (JavaScript and the event loop) and all threads (V8's compiler and GC helpers).
 * `INSTR_CONC` (8) requests in flight. Each checkout is measured `INSTR_REPS` (1) times, in turn. Work on timers
 * (sweeps, heartbeats, quota and affinity syncs) is counted too, and weighs more than at full speed since the hop
 * runs about 50× slower: compare checkouts with each other, not with µs. Needs valgrind and nats-server; checkouts
 * must be built.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from 'tokios';
import { spawnChild, stopAll, type Child } from './lib/children.js';
import { seededStack } from './lib/seeded-stack.js';
import { until as untilDone } from './lib/wait-http.js';

/** Polls `check` (every 200 ms, at most 180_000 ms) until it holds. */
const until = (what: string, check: () => Promise<boolean>, ms = 180_000): Promise<void> => untilDone(what, check, ms, 200);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WARM = Number(process.env.INSTR_WARM ?? 2_000);
const REQUESTS = Number(process.env.INSTR_REQUESTS ?? 2_000);
const CONC = Number(process.env.INSTR_CONC ?? 8);
const REPS = Number(process.env.INSTR_REPS ?? 1);
const HOP = (process.env.INSTR_HOP ?? 'ingress') as 'ingress' | 'terminator' | 'connector';
const FLOOR = process.env.TOKIOS_FLOOR_DIR ?? join(ROOT, '../shared/floor-bench');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/**
 * `count` non-streamed chat completions, `CONC` at a time, on kept-alive connections; returns how many were not
 * answered 200 (a hop slowed 50× by valgrind on a loaded machine may miss a timeout now and then: counted, shown).
 */
async function load(port: number, key: string, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONC });
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  let next = 0;
  let failed = 0;
  const one = (): Promise<void> =>
    new Promise((ok, fail) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failed++;
          ok();
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  const worker = async (): Promise<void> => {
    while (next++ < count) await one();
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  agent.destroy();
  return failed;
}

/** Total Ir of a callgrind dump (its `totals:` or `summary:` line). */
function dumpedInstructions(file: string): number {
  const m = readFileSync(file, 'utf8').match(/^(?:totals|summary):\s*(\d+)/m);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/**
 * The last dump's instructions: the main thread's (thread 1: JavaScript, the event loop, the work per request) and
 * all threads' (V8's compiler and GC helpers too; JIT compilation is not steady-state work, so it is shown apart).
 */
function lastDump(out: string): { main: number; all: number } {
  const files = readdirSync(dirname(out)).filter((f) => f.startsWith(`${basename(out)}.`));
  const dump = Math.max(...files.map((f) => Number(f.slice(basename(out).length + 1).split('-')[0])));
  const ofDump = files.filter((f) => f.startsWith(`${basename(out)}.${dump}-`));
  const irs = ofDump.map((f) => ({ thread: Number(f.split('-').at(-1)), ir: dumpedInstructions(join(dirname(out), f)) }));
  return { main: irs.find((x) => x.thread === 1)?.ir ?? NaN, all: irs.reduce((n, x) => n + x.ir, 0) };
}

async function measure(checkout: string, natsUrl: string, upstream: string, secret: string, out: string): Promise<{ main: number; all: number }> {
  const { main, env, ingressPort: ing, terminatorPort: term, apiKey: key, connectorConfig: cfg } = await seededStack(checkout, 'instr', natsUrl, upstream, secret);
  const grind = ['--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${out}`, process.execPath];
  const start = (hop: typeof HOP, args: string[]): Child =>
    hop === HOP ? spawnChild(`${hop} (callgrind)`, 'valgrind', [...grind, main, hop, ...args], { env }) : spawnChild(hop, process.execPath, [main, hop, ...args], { env });
  const t = start('terminator', []);
  await until('terminator', async () => (await fetch(`http://127.0.0.1:${term}/healthz`)).status > 0);
  const i = start('ingress', []);
  await until('ingress', async () => (await fetch(`http://127.0.0.1:${ing}/healthz`)).status > 0);
  const c = start('connector', ['--config', cfg]);
  await c.waitFor(/Tunnel established/, 180_000);
  const hop = { ingress: i, terminator: t, connector: c }[HOP];
  // The deployment's first answer (the terminator announces the tunnel on NATS after the connector sees it up).
  await until('a first answer', () => load(ing, key, 1).then((failed) => failed === 0));
  await load(ing, key, WARM);
  execFileSync('callgrind_control', ['-z', String(hop.pid)], { stdio: 'ignore' });
  const failed = await load(ing, key, REQUESTS);
  if (failed > 0) console.error(`${checkout}: ${failed} of ${REQUESTS} measured requests not answered 200`);
  execFileSync('callgrind_control', ['-d', String(hop.pid)], { stdio: 'ignore' });
  await sleep(500);
  const ir = lastDump(out);
  await Promise.all([t.stop(), i.stop(), c.stop()]);
  return { main: ir.main / REQUESTS, all: ir.all / REQUESTS };
}

async function main(): Promise<void> {
  const checkouts = process.argv.slice(2).map((p) => resolve(p));
  if (checkouts.length === 0) checkouts.push(ROOT);
  if (!existsSync(join(FLOOR, 'upstream.mjs'))) throw new Error(`no floor chain at ${FLOOR} (TOKIOS_FLOOR_DIR): its upstream.mjs is the model server`);
  const [natsPort, upPort] = [await freePort(), await freePort()];
  const nats = spawnChild('nats-server', 'nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)]);
  await nats.waitFor(/Server is ready/);
  const up = spawnChild('upstream', process.execPath, [join(FLOOR, 'upstream.mjs')], { env: { ...process.env, UP_PORT: String(upPort) } });
  await up.waitFor(/upstream/);
  const secret = randomBytes(32).toString('hex');
  const work = mkdtempSync(join(tmpdir(), 'tokios-instr-cg-'));
  const results = new Map<string, { main: number; all: number }[]>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const [n, c] of checkouts.entries()) {
      const label = `${basename(c)}#${n}`;
      const ir = await measure(c, `nats://127.0.0.1:${natsPort}`, `http://127.0.0.1:${upPort}`, secret, join(work, `${n}-${rep}.out`));
      results.set(label, [...(results.get(label) ?? []), ir]);
      console.error(JSON.stringify({ rep, label, hop: HOP, mainIrPerRequest: Math.round(ir.main), allIrPerRequest: Math.round(ir.all) }));
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = [...results.values()][0]!;
  const base = { main: mean(first.map((x) => x.main)), all: mean(first.map((x) => x.all)) };
  console.log(`${HOP}: instructions per request (callgrind), ${WARM} warm-up + ${REQUESTS} measured, ${CONC} in flight; (x) = ÷ the first checkout`);
  console.log(`${'checkout'.padEnd(24)}${'main thread'.padStart(22)}${'all threads'.padStart(22)}`);
  for (const [label, irs] of results) {
    const m = mean(irs.map((x) => x.main));
    const a = mean(irs.map((x) => x.all));
    const cell = (v: number, b: number): string => `${Math.round(v).toLocaleString('en-US')} (${(v / b).toFixed(3)})`.padStart(22);
    console.log(`${label.padEnd(24)}${cell(m, base.main)}${cell(a, base.all)}`);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
