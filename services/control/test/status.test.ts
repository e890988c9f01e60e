import t from 'tap';
import type { TunnelStatus } from '@tokios/shared/control';
import { mergeDeployment } from '../src/status.js';

const tunnel = (over: Partial<TunnelStatus>): TunnelStatus => ({
  tunnelId: 'tun_1', deploymentId: 'dep_1', connectorId: 'con_1', version: '0.1.0', upstreamKind: 'openai', models: ['m'],
  healthy: true, draining: false, inFlight: 1, maxConcurrency: 8, connectedAt: '2025-01-01T00:00:10.000Z', ...over,
});

t.test('tunnels of one connector merge; online needs a healthy, non-draining connector', async (t) => {
  const s = mergeDeployment([
    { terminatorId: 'trm_a', tunnel: tunnel({}) },
    { terminatorId: 'trm_b', tunnel: tunnel({ tunnelId: 'tun_2', inFlight: 2, connectedAt: '2025-01-01T00:00:05.000Z' }) },
    { terminatorId: 'trm_a', tunnel: tunnel({ tunnelId: 'tun_3', connectorId: 'con_2', draining: true, inFlight: 0 }) },
  ]);
  t.equal(s.online, true);
  t.equal(s.connectors.length, 2);
  const c1 = s.connectors.find((c) => c.connectorId === 'con_1')!;
  t.match(c1, { tunnels: 2, inFlight: 3, connectedSince: '2025-01-01T00:00:05.000Z', terminators: ['trm_a', 'trm_b'] });
  t.equal(mergeDeployment([{ terminatorId: 'trm_a', tunnel: tunnel({ draining: true }) }]).online, false);
  t.equal(mergeDeployment([{ terminatorId: 'trm_a', tunnel: tunnel({ healthy: false }) }]).online, false);
  t.same(mergeDeployment([]), { known: true, online: false, connectors: [] });
});
