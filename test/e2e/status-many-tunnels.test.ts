// Issue 11 (scale model): live status by scatter-gather must not depend on every tunnel of a terminator fitting
// one NATS message. About 330 bytes a tunnel put the 1 MiB default max_payload at ~3,000 tunnels: past that a
// terminator's answer could not be sent and it looked empty. Here a real terminator process on a nats-server with
// a 32 KiB max_payload holds 150 real tunnels (~50 KB of status): every one must come back, to the ingress's and
// the control service's gatherers alike, filtered or not.
import t from 'tap';
import { connect as natsConnect } from 'nats';
import { gatherStatus } from '@tokios/shared/control';
import { silentLogger } from '@tokios/shared/log';
import { StatusService } from '@tokios/control';
import { ScriptedConnector, TestFabric } from '../support/index.js';

const TUNNELS = 150;

t.test('a terminator whose status exceeds one NATS message answers in parts that add up', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-b'], natsConfig: 'max_payload: 32768\n' });
  const term = await f.terminator({ TOKIOS_MAX_TUNNELS_PER_TOKEN: '1000', TOKIOS_TUNNEL_UPGRADES_PER_MIN: '10000' });
  const a = f.seeded.deployments['model-a']!;
  const b = f.seeded.deployments['model-b']!;
  const connectors: ScriptedConnector[] = [];
  t.teardown(() => Promise.all(connectors.map((c) => c.close())));
  for (let i = 0; i < TUNNELS; i++) {
    // Every tenth tunnel is model-b's, so a filtered query has something to leave out.
    const dep = i % 10 === 0 ? b : a;
    connectors.push(await ScriptedConnector.dial(term.url, { connectorId: `con_many${i}`, models: [`m${i}`] }, dep.token));
  }
  const nc = await natsConnect({ servers: f.natsUrl });
  t.teardown(() => nc.close());

  const all = await gatherStatus(nc, {}, 1_000);
  t.ok(all.length > 1, `the answer came in ${all.length} parts`);
  t.ok(all.every((s) => s.terminatorId === term.id), 'all from this terminator');
  const ids = all.flatMap((s) => s.tunnels.map((x) => x.tunnelId));
  t.equal(ids.length, TUNNELS, 'every tunnel reported');
  t.equal(new Set(ids).size, TUNNELS, 'none twice');

  const onlyB = await gatherStatus(nc, { deploymentIds: [b.id] }, 1_000);
  const bTunnels = onlyB.flatMap((s) => s.tunnels);
  t.equal(bTunnels.length, TUNNELS / 10, "a filtered query: exactly model-b's tunnels");
  t.ok(bTunnels.every((x) => x.deploymentId === b.id));

  const service = new StatusService(nc, 1_000, silentLogger());
  const live = await service.forDeployments([a.id, b.id]);
  t.equal(live.get(a.id)?.connectors.length, TUNNELS - TUNNELS / 10, "the control service merges model-a's connectors from every part");
  t.equal(live.get(b.id)?.connectors.length, TUNNELS / 10);
  t.ok(live.get(a.id)?.online);
});
