import t from 'tap';
import { TunnelRegistry, type Placeable } from '../src/registry.js';

/** Placement data of a tunnel: the registry reads nothing else. */
class Entry implements Placeable {
  healthy = true;
  draining = false;
  closed = false;
  constructor(
    readonly name: string,
    readonly connectorId: string,
    readonly maxConcurrency: number,
    readonly deploymentId = 'dep_a',
  ) {}
  get routable(): boolean {
    return !this.closed && this.healthy && !this.draining;
  }
}

function registry(): { reg: TunnelRegistry<Entry>; changes: string[] } {
  const changes: string[] = [];
  const reg = new TunnelRegistry<Entry>((dep, routable) => changes.push(`${dep}:${routable ? 'on' : 'off'}`));
  return { reg, changes };
}

const none: ReadonlySet<Entry> = new Set();

t.test('pick: least loaded by load / cap, ties rotate', async (t) => {
  const { reg } = registry();
  const a = new Entry('a', 'con_a', 4);
  const b = new Entry('b', 'con_b', 2);
  reg.add(a);
  reg.add(b);
  const seen = new Set([reg.pick('dep_a', none)?.name, reg.pick('dep_a', none)?.name]);
  t.same([...seen].sort(), ['a', 'b'], 'two idle connectors share in turn');
  reg.addLoad('con_a', 1); // a at 1/4, b at 0/2
  t.equal(reg.pick('dep_a', none)?.name, 'b');
  reg.addLoad('con_b', 1); // a at 1/4 = 0.25, b at 1/2
  t.equal(reg.pick('dep_a', none)?.name, 'a', 'the ratio to the cap counts, not the raw load');
  reg.addLoad('con_a', 2); // a at 3/4, b at 1/2
  t.equal(reg.pick('dep_a', none)?.name, 'b');
  t.equal(reg.pick('dep_b', none), undefined, 'another deployment has nothing');
});

t.test('pick: a connector at its cap is skipped, across all of its tunnels', async (t) => {
  const { reg } = registry();
  const a1 = new Entry('a1', 'con_a', 2);
  const a2 = new Entry('a2', 'con_a', 2);
  const b = new Entry('b', 'con_b', 1);
  for (const e of [a1, a2, b]) reg.add(e);
  reg.addLoad('con_b', 1);
  t.equal(reg.pick('dep_a', none)?.connectorId, 'con_a');
  reg.addLoad('con_a', 2);
  t.equal(reg.pick('dep_a', none), undefined, 'both connectors are full');
  reg.addLoad('con_a', -1);
  t.equal(reg.pick('dep_a', none)?.connectorId, 'con_a', 'one finished: room again');
  t.equal(reg.load('con_a'), 1);
  reg.addLoad('con_a', -5);
  t.equal(reg.load('con_a'), 0, 'load never goes below zero');
});

t.test('pick: the tried set is skipped (a Reject re-places elsewhere)', async (t) => {
  const { reg } = registry();
  const a = new Entry('a', 'con_a', 10);
  const b = new Entry('b', 'con_b', 10);
  reg.add(a);
  reg.add(b);
  t.equal(reg.pick('dep_a', new Set([a]))?.name, 'b');
  t.equal(reg.pick('dep_a', new Set([b]))?.name, 'a');
  t.equal(reg.pick('dep_a', new Set([a, b])), undefined);
});

t.test('routability: unhealthy, draining and closed tunnels take nothing; the owner hears each change once', async (t) => {
  const { reg, changes } = registry();
  const a = new Entry('a', 'con_a', 10);
  const b = new Entry('b', 'con_b', 10);
  reg.add(a);
  t.same(changes, ['dep_a:on'], 'the first routable tunnel makes the deployment routable');
  reg.add(b);
  t.same(changes, ['dep_a:on'], 'a second one changes nothing');
  reg.update(a, () => (a.healthy = false));
  t.equal(reg.pick('dep_a', none)?.name, 'b', 'an unhealthy tunnel is not picked');
  reg.update(b, () => (b.draining = true));
  t.equal(reg.pick('dep_a', none), undefined, 'nor a draining one');
  t.same(changes, ['dep_a:on', 'dep_a:off'], 'no routable tunnel left');
  t.notOk(reg.isRoutable('dep_a'));
  reg.update(a, () => (a.healthy = true));
  t.same(changes, ['dep_a:on', 'dep_a:off', 'dep_a:on']);
  reg.update(a, () => (a.closed = true));
  t.same(changes.at(-1), 'dep_a:off', 'a tunnel marked closed stops routing at once');
  t.same(reg.tunnels('dep_a').map((e) => e.name).sort(), ['a', 'b'], 'both are still held until removed');
});

t.test('remove: the last routable tunnel leaving turns the deployment off; deployments are listed while held', async (t) => {
  const { reg, changes } = registry();
  const a = new Entry('a', 'con_a', 1);
  const x = new Entry('x', 'con_x', 1, 'dep_b');
  reg.add(a);
  reg.add(x);
  reg.add(x);
  t.equal(reg.size, 2, 'size counts each tunnel once');
  t.same(reg.deployments().sort(), ['dep_a', 'dep_b']);
  reg.remove(a);
  t.same(changes, ['dep_a:on', 'dep_b:on', 'dep_a:off']);
  t.same(reg.deployments(), ['dep_b']);
  reg.remove(a);
  t.equal(changes.length, 3, 'removing twice is a no-op');
  t.equal(reg.size, 1, 'and does not count twice');
  t.same(reg.tunnels().map((e) => e.name), ['x']);
});

t.test('per connector: routability changes and pinned picks (a session\'s home)', async (t) => {
  const changes: string[] = [];
  const reg = new TunnelRegistry<Entry>(() => undefined, (dep, con, routable) => changes.push(`${dep}/${con}:${routable ? 'on' : 'off'}`));
  const a1 = new Entry('a1', 'con_a', 2);
  const a2 = new Entry('a2', 'con_a', 2);
  const b = new Entry('b', 'con_b', 2);
  reg.add(a1);
  reg.add(a2);
  reg.add(b);
  t.same(changes, ['dep_a/con_a:on', 'dep_a/con_b:on'], 'once per connector, on its first routable tunnel');
  reg.addLoad('con_b', 2);
  t.equal(reg.pick('dep_a', none, 'con_b'), undefined, 'a pinned pick never leaves its connector, even at its cap');
  t.ok(reg.isRoutable('dep_a', 'con_b'), 'though it is still routable (a busy Reject, not unavailable)');
  t.match(reg.pick('dep_a', none, 'con_a')?.connectorId, 'con_a');
  reg.update(a1, () => (a1.draining = true));
  t.same(changes.length, 2, 'one tunnel of two draining: the connector stays routable');
  reg.remove(a2);
  t.same(changes.at(-1), 'dep_a/con_a:off', 'its last routable tunnel gone: off');
  t.notOk(reg.isRoutable('dep_a', 'con_a'));
  t.ok(reg.isRoutable('dep_a'), 'the deployment still has con_b');
});
