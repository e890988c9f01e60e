import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createUser } from 'nkeys.js';
import { NATS_ROLES, renderServerConfig, rolePermissions } from '../../src/nats/index.js';

const BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

t.test('the generated config is valid for nats-server and lists each role with its permissions', async (t) => {
  const users = NATS_ROLES.map((role) => ({ role, nkey: createUser().getPublicKey() }));
  const conf = renderServerConfig([...users.slice(0, 3), { role: 'admin', user: 'tokios-admin', passwordHash: '$2a$11$abcdefghijklmnopqrstuuJ1b9Gd0pM3q5aF6b0Z1wVtqkzHq3a6' }], { listen: '127.0.0.1:4333' });
  const file = join(mkdtempSync(join(tmpdir(), 'tokios-conf-')), 'nats.conf');
  writeFileSync(file, conf);
  const { stdout, stderr } = await promisify(execFile)(BIN, ['-t', '-c', file]);
  t.match(`${stdout}${stderr}`, /configuration file .* is valid/);
  for (const u of users.slice(0, 3)) t.match(conf, u.nkey);
  t.match(conf, /user: "tokios-admin"\n\s+password: "\$2a\$11\$/);
  t.match(conf, /"tokios\.req\.\* tokios-terminators"/, 'terminators take requests only as the queue group');
  t.equal(conf.match(/allow_responses: true/g)?.length, 1, 'only the terminator answers replies it was not given explicitly');
  t.notOk(rolePermissions.ingress.subscribe.some((s) => s.startsWith('tokios.req')), 'the ingress cannot read requests');
  t.notOk(rolePermissions.terminator.publish.some((s) => s.startsWith('tokios.ctl')), 'a terminator cannot publish control events');
});
