import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GATEWAY, loadConnectorConfig, parseConnectorConfig } from '../src/config.js';

t.test('defaults and normalisation', async (t) => {
  const c = parseConnectorConfig({ tunnel_token: 'tt-tokios-abcdefgh', upstream: 'http://localhost:8000/v1/' });
  t.equal(c.gateway, DEFAULT_GATEWAY);
  t.equal(c.gatewayUrl, DEFAULT_GATEWAY);
  t.equal(c.upstreamBase, 'http://localhost:8000', 'a trailing /v1 is dropped; the connector adds API paths');
  t.equal(c.upstream_kind, 'auto');
  t.equal(c.tunnels, 2);
  t.equal(parseConnectorConfig({ tunnel_token: 'tt-tokios-abcdefgh', upstream: 'http://x', gateway: 'https://gw.example.com' }).gatewayUrl, 'wss://gw.example.com/v1/tunnel');
});

t.test('bad config names the field', async (t) => {
  t.throws(() => parseConnectorConfig({ upstream: 'http://x' }), { name: 'ConfigError', message: /tunnel_token/ });
  t.throws(() => parseConnectorConfig({ tunnel_token: 'tt-tokios-abcdefgh', upstream: 'ftp://x' }), { message: /upstream: must be an http/ });
  t.throws(() => parseConnectorConfig({ tunnel_token: 'tt-tokios-abcdefgh', upstream: 'http://x', max_concurrency: 0 }), { message: /max_concurrency/ });
  t.throws(() => parseConnectorConfig({ tunnel_token: 'tt-tokios-abcdefgh', upstream: 'http://x', tunnel_tokn: 'typo' }), { message: /tunnel_tokn|Unrecognized/ });
});

t.test('file errors are clear', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tokios-cfg-'));
  await t.rejects(loadConnectorConfig(join(dir, 'missing.json')), { name: 'ConfigError', message: /cannot read .*ENOENT/ });
  await writeFile(join(dir, 'bad.json'), '{ "tunnel_token": ');
  await t.rejects(loadConnectorConfig(join(dir, 'bad.json')), { name: 'ConfigError', message: /not valid JSON/ });
});
