import t from 'tap';
import { terminatorStatusSchema, type TunnelStatus } from '@tokios/shared/control';
import { statusAnswers } from '../src/status-answer.js';

const tunnel = (i: number): TunnelStatus => ({
  tunnelId: `tun_${i}`, deploymentId: `dep_${i % 7}`, connectorId: `con_${i}`, version: '0.1.0', upstreamKind: 'openai', models: ['llama3.1:8b'],
  healthy: true, draining: false, inFlight: 0, maxConcurrency: 8, connectedAt: '2026-12-01T12:00:00.000Z',
});

t.test('parts each fit the payload limit and together carry every tunnel once', async (t) => {
  const tunnels = Array.from({ length: 500 }, (_, i) => tunnel(i));
  const { parts, skipped } = statusAnswers({ terminatorId: 'trm_a', url: 'ws://x/v1/tunnel', tunnels }, 16 * 1024);
  t.equal(skipped, 0);
  t.ok(parts.length > 1, `split into ${parts.length} parts`);
  const seen: string[] = [];
  for (const p of parts) {
    t.ok(Buffer.byteLength(p) <= 16 * 1024 - 1024, 'under the limit with room for the envelope');
    const s = terminatorStatusSchema.parse(JSON.parse(p));
    t.equal(s.terminatorId, 'trm_a');
    t.equal(s.url, 'ws://x/v1/tunnel');
    seen.push(...s.tunnels.map((x) => x.tunnelId));
  }
  t.same(seen, tunnels.map((x) => x.tunnelId), 'in order, none lost, none twice');
});

t.test('no tunnels: one answer with an empty list (the terminator still says it is there)', async (t) => {
  const { parts } = statusAnswers({ terminatorId: 'trm_a', url: null, tunnels: [] }, 1024 * 1024);
  t.same(parts.map((p) => JSON.parse(p)), [{ terminatorId: 'trm_a', url: null, tunnels: [] }]);
});

t.test('a tunnel that does not match the schema is left out, not the whole answer', async (t) => {
  const bad = { ...tunnel(1), version: 'v'.repeat(65) };
  const { parts, skipped } = statusAnswers({ terminatorId: 'trm_a', url: null, tunnels: [tunnel(0), bad, tunnel(2)] }, 1024 * 1024);
  t.equal(skipped, 1);
  t.same(JSON.parse(parts[0]!).tunnels.map((x: TunnelStatus) => x.tunnelId), ['tun_0', 'tun_2']);
});
