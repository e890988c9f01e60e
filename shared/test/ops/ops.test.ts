import t from 'tap';
import { BoundedLabel, Metrics, OTHER_LABEL } from '../../src/metrics/index.js';
import { Readiness, metricsAuthorized, opsAnswer } from '../../src/ops/index.js';

t.test('BoundedLabel keeps the first N values and folds the rest into "other"', async (t) => {
  const b = new BoundedLabel(2);
  t.equal(b.of('dep_a'), 'dep_a');
  t.equal(b.of('dep_b'), 'dep_b');
  t.equal(b.of('dep_c'), OTHER_LABEL, 'past the cap');
  t.equal(b.of('dep_a'), 'dep_a', 'a known value keeps its series');
});

t.test('Readiness: every check up and not draining; a throwing or hanging check is down', async (t) => {
  let natsUp = true;
  const r = new Readiness().add('nats', () => natsUp).add('store', async () => true);
  t.same(await r.report(), { ready: true, draining: false, checks: { nats: 'ok', store: 'ok' } });
  natsUp = false;
  t.same((await r.report()).checks.nats, 'down');
  natsUp = true;
  r.add('broken', () => {
    throw new Error('x');
  });
  t.equal((await r.report()).ready, false, 'a throwing check');
  const d = new Readiness().add('hangs', () => new Promise<boolean>(() => undefined));
  t.same((await d.report()).checks, { hangs: 'down' }, 'a check that never answers is down after its time limit');
  const drain = new Readiness().add('nats', () => true);
  drain.startDraining();
  t.same(await drain.report(), { ready: false, draining: true, checks: { nats: 'ok' } }, 'draining: not ready though every check passes');
});

t.test('ops answers: /readyz status, /metrics token', async (t) => {
  const metrics = new Metrics({ defaultMetrics: false });
  const readiness = new Readiness().add('nats', () => false);
  const o = { metrics, readiness, metricsToken: 'a-token-of-sixteen-chars', health: () => ({ id: 'x' }) };
  t.equal((await opsAnswer(o, '/healthz', undefined))?.status, 200, 'liveness is independent of readiness');
  t.equal((await opsAnswer(o, '/readyz', undefined))?.status, 503);
  t.equal((await opsAnswer(o, '/metrics', undefined))?.status, 401);
  t.equal((await opsAnswer(o, '/metrics', 'Bearer a-token-of-sixteen-chars'))?.status, 200);
  t.equal(await opsAnswer(o, '/other', undefined), undefined);
  t.ok(metricsAuthorized(undefined, undefined), 'no token configured: open');
  t.notOk(metricsAuthorized('Bearer a-token-of-sixteen-charsX', 'a-token-of-sixteen-chars'));
});
