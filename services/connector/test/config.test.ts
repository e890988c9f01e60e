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

t.test('several deployments: each entry its own token, model and caps; shared defaults fill the rest', async (t) => {
  const c = parseConnectorConfig({
    upstream: 'http://localhost:11434',
    max_concurrency: 3,
    deployments: [
      { tunnel_token: 'tt-tokios-aaaaaaaa', model: 'qwen2.5-coder:7b', max_concurrency: 1, tunnels: 1 },
      { tunnel_token: 'tt-tokios-bbbbbbbb' },
    ],
  });
  t.strictSame(c.deployments, [
    { tunnel_token: 'tt-tokios-aaaaaaaa', model: 'qwen2.5-coder:7b', max_concurrency: 1, tunnels: 1 },
    { tunnel_token: 'tt-tokios-bbbbbbbb', max_concurrency: 3, tunnels: 2 },
  ]);
  const single = parseConnectorConfig({ tunnel_token: 'tt-tokios-abcdefgh', upstream: 'http://x', model: 'm', tunnels: 1 });
  t.strictSame(single.deployments, [{ tunnel_token: 'tt-tokios-abcdefgh', model: 'm', max_concurrency: 8, tunnels: 1 }], 'the single form is one deployment');
  t.equal(single.tunnel_token, 'tt-tokios-abcdefgh');
});

t.test('several deployments: mistakes are named', async (t) => {
  const base = { upstream: 'http://x' };
  t.throws(() => parseConnectorConfig({ ...base, tunnel_token: 'tt-tokios-abcdefgh', deployments: [{ tunnel_token: 'tt-tokios-bbbbbbbb' }] }), { message: /tunnel_token: give either/ });
  t.throws(() => parseConnectorConfig({ ...base, model: 'm', deployments: [{ tunnel_token: 'tt-tokios-bbbbbbbb' }] }), { message: /model: with "deployments"/ });
  t.throws(() => parseConnectorConfig({ ...base, deployments: [{ tunnel_token: 'tt-tokios-bbbbbbbb' }, { tunnel_token: 'tt-tokios-bbbbbbbb' }] }), { message: /deployments\.1\.tunnel_token: the same token twice/ });
  t.throws(() => parseConnectorConfig({ ...base, deployments: [] }), { message: /deployments/ });
  t.throws(() => parseConnectorConfig({ ...base, deployments: [{ tunnel_token: 'tt-tokios-bbbbbbbb', upstream: 'http://y' }] }), { message: /deployments\.0/ });
});
