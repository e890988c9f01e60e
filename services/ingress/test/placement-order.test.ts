import t from 'tap';
import { placementOrder } from '../src/routing/targets.js';
import type { CachedRoute } from '../src/auth/auth-cache.js';

const dep = (id: string) => ({ id, tenantId: 'ten_a', name: id });
const alias = (mode: 'ordered' | 'weighted', ...targets: [string, number][]): CachedRoute => ({
  kind: 'alias', aliasId: 'als_1', name: 'a', mode, targets: targets.map(([id, weight]) => ({ deployment: dep(id), weight })),
});
/** Returns the given values in turn: a scripted Math.random. */
const scripted = (...values: number[]) => () => values.shift() ?? 0;

t.test('a deployment is a list of one; an ordered alias keeps its order', async (t) => {
  t.same(placementOrder({ kind: 'deployment', deployment: dep('d') }), [dep('d')]);
  t.same(placementOrder(alias('ordered', ['x', 5], ['y', 1], ['z', 1]), scripted(0.99, 0.99)).map((d) => d.id), ['x', 'y', 'z'], 'weights ignored');
  t.same(placementOrder(alias('weighted')), [], 'no usable target: nothing to try');
});

t.test('weighted: each next target is drawn by weight among those left', async (t) => {
  const r = alias('weighted', ['x', 3], ['y', 1]);
  t.same(placementOrder(r, scripted(0)).map((d) => d.id), ['x', 'y'], 'the low end of the range is the first target');
  t.same(placementOrder(r, scripted(0.74)).map((d) => d.id), ['x', 'y'], 'up to 3/4 still the first');
  t.same(placementOrder(r, scripted(0.76)).map((d) => d.id), ['y', 'x'], 'the last quarter the second');
  t.same(placementOrder(alias('weighted', ['x', 1], ['y', 1], ['z', 2]), scripted(0.99, 0.6)).map((d) => d.id), ['z', 'y', 'x'], 'the fallbacks by weight too');
  const counts = { x: 0, y: 0 };
  for (let i = 0; i < 4000; i++) counts[placementOrder(r)[0]!.id as 'x' | 'y']++;
  t.ok(counts.x / 4000 > 0.7 && counts.x / 4000 < 0.8, `x first in ${counts.x} of 4000 (weight 3 of 4)`);
});
