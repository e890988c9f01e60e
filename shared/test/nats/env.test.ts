import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from 'nkeys.js';
import { ConfigError } from '../../src/config/index.js';
import { describeAuth, natsSettingsFromEnv, parseServers, shuffled } from '../../src/nats/index.js';

const SECRET = 's'.repeat(40);
const dir = mkdtempSync(join(tmpdir(), 'tokios-nats-env-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const seed = new TextDecoder().decode(createUser().getSeed());
const refused = (env: NodeJS.ProcessEnv): string => {
  try {
    natsSettingsFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('accepted');
};

t.test('NATS_URL: one or several servers, each checked', async (t) => {
  t.same(natsSettingsFromEnv({}).servers, [{ url: 'nats://127.0.0.1:4222', tls: false }], 'default');
  t.same(
    parseServers(' nats://a:4222, tls://b:5222 ,c:6222,d'),
    [{ url: 'nats://a:4222', tls: false }, { url: 'tls://b:5222', tls: true }, { url: 'nats://c:6222', tls: false }, { url: 'nats://d:4222', tls: false }],
    'comma-separated, spaces, bare host:port, default port',
  );
  t.ok(natsSettingsFromEnv({ NATS_URL: 'tls://a:4222' }).tls, 'a tls:// seed makes the client require TLS');
  t.match(refused({ NATS_URL: 'nats://a:4222,,nats://b:4222' }), /NATS_URL: has an empty entry/);
  t.match(refused({ NATS_URL: 'nats://a:4222,http://b:80' }), /NATS_URL: entry 2 \("http:\/\/b:80"\) must use nats:\/\/ or tls:\/\//);
  t.match(refused({ NATS_URL: 'nats://a:99999' }), /NATS_URL: "nats:\/\/a:99999" is not a URL/);
  t.match(refused({ NATS_URL: 'nats://a:4222/path' }), /must be scheme:\/\/host:port only/);
  const withCreds = refused({ NATS_URL: 'nats://a:4222,nats://tokios:4222secret@b:4222' });
  t.match(withCreds, /NATS_URL: entry 2 carries credentials, which nats\.js ignores: set NATS_USER and NATS_PASSWORD \(or NATS_TOKEN\)/);
  t.notMatch(withCreds, /4222secret/, 'the secret is not echoed');
});

t.test('credentials: exactly one way, complete, readable', async (t) => {
  t.same(natsSettingsFromEnv({ NATS_USER: 'u', NATS_PASSWORD: '123abc', TOKIOS_FABRIC_SECRET: SECRET }).auth, { kind: 'user', user: 'u', pass: '123abc' });
  t.same(natsSettingsFromEnv({ NATS_TOKEN: 'tok', TOKIOS_FABRIC_SECRET: SECRET }).auth, { kind: 'token', token: 'tok' });
  t.match(refused({ NATS_USER: 'u', TOKIOS_FABRIC_SECRET: SECRET }), /NATS_PASSWORD: is required with NATS_USER/);
  t.match(refused({ NATS_PASSWORD: 'p', TOKIOS_FABRIC_SECRET: SECRET }), /NATS_USER: is required with NATS_PASSWORD/);
  t.match(refused({ NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN: 't', TOKIOS_FABRIC_SECRET: SECRET }), /NATS_TOKEN: set only one way to authenticate to NATS, not both NATS_USER and NATS_TOKEN/);
  t.match(refused({ NATS_CREDS: '/nonexistent/x.creds', TOKIOS_FABRIC_SECRET: SECRET }), /NATS_CREDS: cannot read \/nonexistent\/x\.creds: ENOENT/);
  t.match(refused({ NATS_CREDS: file('bad.creds', 'not a creds file'), TOKIOS_FABRIC_SECRET: SECRET }), /NATS_CREDS: is not a NATS creds file/);
  const creds = file('ok.creds', `-----BEGIN NATS USER JWT-----\neyJhbGciOi.payload.sig\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`);
  t.equal(natsSettingsFromEnv({ NATS_CREDS: creds, TOKIOS_FABRIC_SECRET: SECRET }).auth.kind, 'creds');

  t.equal(natsSettingsFromEnv({ NATS_NKEY_SEED: seed, TOKIOS_FABRIC_SECRET: SECRET }).auth.kind, 'nkey', 'a seed as the value');
  t.equal(natsSettingsFromEnv({ NATS_NKEY_SEED: file('user.nk', `${seed}\n`), TOKIOS_FABRIC_SECRET: SECRET }).auth.kind, 'nkey', 'a seed file');
  t.match(refused({ NATS_NKEY_SEED: file('junk.nk', 'SUjunk'), TOKIOS_FABRIC_SECRET: SECRET }), /NATS_NKEY_SEED: must be a user nkey seed \(SU…\) or the path of a file holding one/);
  t.match(refused({ NATS_NKEY_SEED: 'nope', TOKIOS_FABRIC_SECRET: SECRET }), /NATS_NKEY_SEED: is neither a user nkey seed \(SU…\) nor a readable file: ENOENT/);
  for (const env of [{ NATS_TOKEN: 'tok-secret-value' }, { NATS_USER: 'u', NATS_PASSWORD: 'pw-secret-value' }, { NATS_NKEY_SEED: seed }]) {
    const d = describeAuth(natsSettingsFromEnv({ ...env, TOKIOS_FABRIC_SECRET: SECRET }).auth);
    t.notMatch(d, /secret-value|SU[A-Z2-7]{20}/, `described without the secret: ${d}`);
  }
});

t.test('client TLS files', async (t) => {
  const pem = file('a.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const key = file('k.pem', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
  t.same(natsSettingsFromEnv({ NATS_TLS_CA: pem, NATS_TLS_CERT: pem, NATS_TLS_KEY: key }).tls, {
    ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    key: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
  });
  t.equal(natsSettingsFromEnv({}).tls, undefined, 'no TLS unless asked for');
  t.match(refused({ NATS_TLS_CERT: pem }), /NATS_TLS_KEY: NATS_TLS_CERT and NATS_TLS_KEY go together/);
  t.match(refused({ NATS_TLS_CA: file('x.txt', 'hello') }), /NATS_TLS_CA: is not a PEM file/);
  t.match(refused({ NATS_TLS_CA: join(dir, 'missing.pem') }), /NATS_TLS_CA: cannot read .*missing\.pem: ENOENT/);
});

t.test('TOKIOS_FABRIC_SECRET: required with NATS credentials, optional on an open NATS', async (t) => {
  t.match(refused({ NATS_TOKEN: 'tok' }), /TOKIOS_FABRIC_SECRET: is required when NATS credentials are set \(NATS_TOKEN\)/);
  t.equal(natsSettingsFromEnv({}).fabricSecret, undefined);
  t.match(refused({ TOKIOS_FABRIC_SECRET: 'short' }), /TOKIOS_FABRIC_SECRET: must be at least 32 characters/);
  t.equal(natsSettingsFromEnv({ TOKIOS_FABRIC_SECRET: SECRET }).fabricSecret, SECRET);
});

t.test('server order is shuffled per process', async (t) => {
  const first = new Set<string>();
  for (let i = 0; i < 200; i++) first.add(shuffled(['a', 'b', 'c'])[0]!);
  t.same([...first].sort(), ['a', 'b', 'c'], 'every seed comes first in some process');
  t.same(shuffled(['a', 'b', 'c']).sort(), ['a', 'b', 'c'], 'a permutation');
});
