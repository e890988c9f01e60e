// How a recorded request becomes a corpus fixture, and the corpus itself: every file has the documented shape and
// carries no credential.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from '../support/sdk-callers.js';
import { ROOT } from '../support/processes.js';
import { fixtureBody, fixtureHeaders, type Fixture } from './fixture.js';

t.test('headers: credentials hidden (scheme kept), transport headers dropped, names sorted', async (t) => {
  const h = fixtureHeaders({
    'x-api-key': 'sk-tokios-abc', authorization: 'Bearer sk-tokios-abc', host: '127.0.0.1:5', 'content-length': '9',
    'user-agent': 'claude-cli/2.1.332', 'anthropic-beta': 'a,b',
  });
  t.same(h, { 'anthropic-beta': 'a,b', authorization: 'Bearer <secret>', 'user-agent': 'claude-cli/2.1.332', 'x-api-key': '<secret>' });
  t.same(Object.keys(h), ['anthropic-beta', 'authorization', 'user-agent', 'x-api-key']);
});

t.test('bodies: every field and type kept; prose shortened; JSON text, markers and short strings whole', async (t) => {
  const prose = 'You are a coding agent. '.repeat(40);
  const args = JSON.stringify({ command: 'cat x', description: 'd'.repeat(500) });
  const marked = `${'reminder '.repeat(60)} tokios-scenario:text:0123456789ab`;
  const out = fixtureBody({ system: prose, n: 3, flag: true, none: null, args, marked, short: 'hi', list: [prose] }) as Record<string, unknown>;
  t.equal(out.system, `${prose.slice(0, 160)}…[${prose.length} chars]`);
  t.same((out.list as string[])[0], out.system);
  t.equal(out.args, args, 'tool-call arguments stay valid JSON');
  t.equal(out.marked, marked, 'the scenario markers survive');
  t.same([out.n, out.flag, out.none, out.short], [3, true, null, 'hi']);
});

t.test('images: data URLs and base64 sources become the 1x1 PNG', async (t) => {
  const out = fixtureBody({
    url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg' + 'A'.repeat(5000),
    source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' + 'B'.repeat(5000) },
  }) as { url: string; source: Record<string, string> };
  t.equal(out.url, `data:image/png;base64,${PNG}`);
  t.same(out.source, { type: 'base64', media_type: 'image/png', data: PNG });
});

t.test('the corpus: documented shape, one protocol per folder, no credentials', async (t) => {
  const base = join(ROOT, 'test', 'fixtures', 'clients');
  const folders = (await readdir(base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  t.same(folders.sort(), ['anthropic-messages', 'openai-chat', 'openai-responses']);
  let files = 0;
  for (const folder of folders) {
    for (const name of await readdir(join(base, folder))) {
      files++;
      const f = JSON.parse(await readFile(join(base, folder, name), 'utf8')) as Fixture;
      t.equal(f.protocol, folder, `${name}: in its protocol's folder`);
      t.equal(name, `${f.client}.${f.scenario}.json`, `${name}: named client.scenario`);
      t.ok(f.requests.length > 0 && f.packages.every((p) => /@\d+\.\d+\.\d+$/.test(p)), `${name}: requests and exact package versions`);
      for (const r of f.requests) {
        t.match(r, { method: String, path: /^\//, headers: Object }, `${name}: request shape`);
        for (const k of ['authorization', 'x-api-key'] as const) if (r.headers[k]) t.match(r.headers[k], /^(Bearer )?<secret>$/, `${name}: ${k} hidden`);
        t.notMatch(JSON.stringify(r), /sk-tokios-/, `${name}: no key material`);
      }
    }
  }
  t.ok(files >= 31, `${files} fixtures`);
});
