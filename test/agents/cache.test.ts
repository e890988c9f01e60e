// The client cache installer, on a small local package (no registry needed): a complete install is reused, a
// half install is redone, concurrent callers share one install, and a failing npm is reported with its output.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleDir, ensureBundle, type Bundle } from './cache.js';

const root = await mkdtemp(join(tmpdir(), 'tokios-agents-cache-test-'));
process.env.TOKIOS_AGENTS_CACHE = join(root, 'cache');
t.teardown(() => rm(root, { recursive: true, force: true }));

const pkg = join(root, 'fake-client');
await mkdir(pkg, { recursive: true });
await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'tokios-fake-client', version: '1.0.0', bin: { 'fake-client': 'cli.js' } }));
await writeFile(join(pkg, 'cli.js'), '#!/usr/bin/env node\nconsole.log("fake");\n');
// --install-links semantics are npm's business; a file: spec installs offline either way.
const bundle: Bundle = { id: 'tokios-fake-client@1.0.0', packages: [`file:${pkg}`] };
const lines: string[] = [];
const log = (l: string) => lines.push(l);
const marker = join(bundleDir(bundle), '.tokios-installed.json');

t.test('a first call installs and leaves a marker; the next one uses the cache', async (t) => {
  const first = await ensureBundle(bundle, log);
  t.equal(first.installed, true);
  t.equal(first.dir, join(root, 'cache', 'tokios-fake-client@1.0.0'));
  t.ok(existsSync(join(first.dir, 'node_modules', 'tokios-fake-client', 'package.json')), 'the package is in the bundle folder');
  t.ok(existsSync(marker), 'the marker says the install completed');
  t.ok(lines.some((l) => l.includes('installing')), 'progress was reported');
  const again = await ensureBundle(bundle, log);
  t.equal(again.installed, false, 'the complete install is reused');
});

t.test('a half install (no marker) is redone, leftovers of a crashed one included', async (t) => {
  await rm(marker);
  await mkdir(`${bundleDir(bundle)}.partial-999999999/node_modules`, { recursive: true });
  const r = await ensureBundle(bundle, log);
  t.equal(r.installed, true);
  t.ok(existsSync(marker));
  t.notOk(existsSync(`${bundleDir(bundle)}.partial-999999999`), 'the dead side folder was removed');
  t.notOk(existsSync(`${bundleDir(bundle)}.partial-${process.pid}`), 'ours was moved into place');
});

t.test('another version list is another install', async (t) => {
  const other: Bundle = { id: bundle.id, packages: [...bundle.packages, `file:${pkg}`] };
  t.equal((await ensureBundle(other, log)).installed, true);
  t.equal((await ensureBundle(bundle, log)).installed, true, 'and back');
});

t.test('callers in one process share one install', async (t) => {
  await rm(marker);
  const [a, b] = await Promise.all([ensureBundle(bundle, log), ensureBundle(bundle, log)]);
  t.equal(a, b, 'one result for both');
  t.equal(a.installed, true);
});

t.test("another process's lock is waited for; when its owner dies it is taken over", async (t) => {
  await rm(marker);
  const owner = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => owner.kill('SIGKILL'));
  await mkdir(`${bundleDir(bundle)}.lock`, { recursive: true });
  await writeFile(`${bundleDir(bundle)}.lock/pid`, String(owner.pid));
  let waiting!: () => void;
  const announced = new Promise<void>((r) => (waiting = r));
  const done = ensureBundle(bundle, (l) => (l.includes('waiting for another install') ? waiting() : undefined));
  await announced;
  t.notOk(existsSync(marker), 'nothing installed while the owner lives');
  owner.kill('SIGKILL');
  t.equal((await done).installed, true, 'installed once the owner is gone');
  t.notOk(existsSync(`${bundleDir(bundle)}.lock`), 'the lock is released');
});

t.test('a failing install rejects with what npm said and leaves nothing that looks complete', async (t) => {
  const broken: Bundle = { id: 'tokios-missing@1.0.0', packages: [`file:${join(root, 'no-such-folder')}`] };
  await t.rejects(ensureBundle(broken, log), /npm install tokios-missing@1\.0\.0 ended with/);
  t.notOk(existsSync(join(bundleDir(broken), '.tokios-installed.json')));
});
