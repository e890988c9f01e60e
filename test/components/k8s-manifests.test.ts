/**
 * infra/k8s (kustomize base) rendered and validated: kinds, probes, ports against the services' defaults from their
 * config modules, environment variables against the config schemas, one Service and public host per terminator
 * pod, a disruption budget per tier, the ingress HPA (Kubernetes cannot run here).
 */
import t from 'tap';
import {
  connectorDrainMs,
  defaultPort,
  stopMs,
  isTier,
  knownEnv,
  kubectlKustomize,
  loadManifests,
  renderKustomization,
  selects,
  type Container,
  type K8sObject,
  type Tier,
  type Workload,
} from '../support/index.js';

const objects = loadManifests();
const ofKind = <K extends K8sObject['kind']>(kind: K) => objects.filter((o): o is Extract<K8sObject, { kind: K }> => o.kind === kind);
const workloads: Workload[] = [...ofKind('Deployment'), ...ofKind('StatefulSet')];
const services = ofKind('Service');
const byName = <T extends { metadata: { name: string } }>(list: T[], name: string): T | undefined => list.find((o) => o.metadata.name === name);

/** Tokios workloads: the container runs a tier (`args: [ingress]`). */
const tiers = workloads.flatMap((w) => {
  const c = w.spec.template.spec.containers[0]!;
  return isTier(c.args[0]) ? [{ w, c, tier: c.args[0] as Tier }] : [];
});
const nats = byName(ofKind('StatefulSet'), 'nats');
const port = (c: Container, ref: number | string): number | undefined => (typeof ref === 'number' ? ref : c.ports.find((p) => p.name === ref)?.containerPort);

const real = kubectlKustomize();
t.test('the rendering agrees with kubectl kustomize', { skip: real ? false : 'kubectl is not installed: rendered in code only' }, async (t) => {
  if (!real) return;
  const key = (o: Record<string, any>) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
  t.same(real.map(key).sort(), renderKustomization().map(key).sort(), 'same objects');
  const images = (list: Record<string, any>[]) => list.flatMap((o) => (o.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => `${o.metadata.name}=${c.image}`)).sort();
  t.same(images(real), images(renderKustomization()), 'same images');
});

t.test('kinds: namespace, NATS cluster, ingress, terminator, control, public Ingress, budgets, HPA', async (t) => {
  t.same(tiers.map(({ w, tier }) => `${w.kind}/${w.metadata.name}=${tier}`).sort(), ['Deployment/tokios-control=control', 'Deployment/tokios-ingress=ingress', 'StatefulSet/tokios-terminator=terminator']);
  t.equal(nats?.spec.replicas, 3, 'a 3-node NATS StatefulSet');
  t.equal(ofKind('Namespace').length, 1);
  t.ok(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'tokios'), 'everything in the tokios namespace');
  t.equal(ofKind('Ingress').length, 1);
  t.equal(ofKind('HorizontalPodAutoscaler').length, 1);
});

t.test('probes: readiness on /readyz, liveness on /healthz, on the port each tier listens on by default', async (t) => {
  for (const { w, c, tier } of tiers) {
    const listen = Number(c.env.find((e) => e.name.endsWith('_PORT'))?.value ?? defaultPort(tier));
    t.equal(listen, defaultPort(tier), `${w.metadata.name}: the ${tier} default port`);
    t.same(c.ports.map((p) => p.containerPort), [defaultPort(tier)], `${w.metadata.name} declares it`);
    t.equal(c.readinessProbe?.httpGet.path, '/readyz', `${w.metadata.name} readiness`);
    t.equal(port(c, c.readinessProbe?.httpGet.port ?? -1), listen);
    t.equal(c.livenessProbe?.httpGet.path, '/healthz', `${w.metadata.name} liveness`);
    t.equal(port(c, c.livenessProbe?.httpGet.port ?? -1), listen);
    t.ok(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${w.metadata.name}: selector matches its pods`);
  }
  const n = nats!.spec.template.spec.containers[0]!;
  t.equal(n.readinessProbe?.httpGet.path, '/healthz');
  t.equal(port(n, n.readinessProbe?.httpGet.port ?? -1), 8222, 'NATS probes its monitoring port');
});

t.test('terminationGracePeriodSeconds covers preStop and every drain', async (t) => {
  for (const { w, c, tier } of tiers) {
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    const preStopMs = c.lifecycle?.preStop.exec.command[0] === 'sleep' ? Number(c.lifecycle.preStop.exec.command[1]) * 1000 : 0;
    const graceMs = w.spec.template.spec.terminationGracePeriodSeconds * 1000;
    const stop = stopMs(tier, env);
    t.ok(graceMs > preStopMs + stop.ms, `${w.metadata.name}: ${graceMs} ms > preStop ${preStopMs} + ${stop.what}`);
    t.ok(graceMs > preStopMs + connectorDrainMs(), `${w.metadata.name}: ${graceMs} ms > preStop + a connector's drain`);
  }
  t.ok(nats!.spec.template.spec.terminationGracePeriodSeconds > 35, 'NATS: longer than its lame duck preStop');
});

t.test('environments: only variables the tiers read; credentials and store from per-role Secrets', async (t) => {
  const natsUrls = Array.from({ length: nats!.spec.replicas }, (_, i) => `nats://nats-${i}.${nats!.spec.serviceName}:4222`);
  for (const { w, c, tier } of tiers) {
    const known = knownEnv(tier);
    // Variables only there to be expanded into another ($(POD_NAME)) are Kubernetes', not the tier's.
    const expanded = new Set(c.env.flatMap((e) => [...(e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1]!)));
    for (const e of c.env) t.ok(known.has(e.name) || expanded.has(e.name), `${w.metadata.name}: ${e.name} is read by the ${tier} config`);
    t.same(c.env.find((e) => e.name === 'NATS_URL')?.value?.split(','), natsUrls, `${w.metadata.name} knows every NATS node`);
    const secrets = c.envFrom.map((e) => e.secretRef.name);
    t.ok(secrets.includes(`tokios-nats-${tier}`), `${w.metadata.name}: the ${tier} role's NATS credentials`);
    t.ok(secrets.includes('tokios-store'), `${w.metadata.name}: the store`);
    if (tier === 'control') t.ok(secrets.includes('tokios-control'), 'control: the operator token');
    t.equal(c.image, 'tokios:local', 'the image set by the kustomization');
  }
  const routes = nats!.spec.template.spec.containers[0]!.args;
  t.same(routes[routes.indexOf('--routes') + 1]?.split(','), natsUrls.map((u) => u.replace(':4222', ':6222')), 'NATS routes to every pod');
});

t.test('services select pods and target declared ports', async (t) => {
  for (const s of services) {
    const w = workloads.find((x) => selects(Object.fromEntries(Object.entries(s.spec.selector).filter(([k]) => k !== 'statefulset.kubernetes.io/pod-name')), x.spec.template.metadata.labels));
    t.ok(w, `${s.metadata.name} selects a workload's pods`);
    const c = w?.spec.template.spec.containers[0];
    for (const p of s.spec.ports) t.ok(c && port(c, p.targetPort) !== undefined, `${s.metadata.name}:${p.name} targets a container port`);
  }
  t.equal(byName(services, nats!.spec.serviceName ?? '')?.spec.clusterIP, 'None', 'NATS has its headless governing Service');
});

t.test('one Service and one public host per terminator pod, each advertised as that pod\'s tunnel URL', async (t) => {
  const term = tiers.find((x) => x.tier === 'terminator')!;
  const url = term.c.env.find((e) => e.name === 'TOKIOS_PUBLIC_TUNNEL_URL')?.value ?? '';
  const podName = term.c.env.find((e) => e.name === 'POD_NAME')?.valueFrom;
  t.same(podName, { fieldRef: { fieldPath: 'metadata.name' } }, 'POD_NAME is the pod name');
  t.match(url, /^wss:\/\/\$\(POD_NAME\)\.[a-z0-9.-]+\/v1\/tunnel$/, 'the URL names the pod');
  const rules = ofKind('Ingress')[0]!.spec.rules;
  for (let i = 0; i < term.w.spec.replicas; i++) {
    const pod = `${term.w.metadata.name}-${i}`;
    const svc = byName(services, pod);
    t.same(svc?.spec.selector['statefulset.kubernetes.io/pod-name'], pod, `Service ${pod} selects that pod alone`);
    const host = new URL(url.replace('$(POD_NAME)', pod)).hostname;
    const rule = rules.find((r) => r.host === host);
    t.same(rule?.http.paths.map((p) => `${p.path}=${p.backend.service.name}`), [`/v1/tunnel=${pod}`], `${host} reaches ${pod}`);
  }
  const api = rules.find((r) => !r.host.includes('.tunnel.'));
  const route = (path: string) => api?.http.paths.find((p) => p.path === path)?.backend.service.name;
  t.equal(route('/'), 'tokios-ingress');
  t.equal(route('/dashboard'), 'tokios-control');
  t.equal(route('/admin'), 'tokios-control');
  t.equal(route('/v1/tunnel'), 'tokios-terminator');
});

t.test('a PodDisruptionBudget per tier; the ingress HPA on CPU and in-flight requests', async (t) => {
  for (const w of workloads) {
    const budgets = ofKind('PodDisruptionBudget').filter((p) => selects(p.spec.selector.matchLabels, w.spec.template.metadata.labels));
    t.equal(budgets.length, 1, `${w.metadata.name} has one budget`);
    const b = budgets[0]?.spec;
    t.ok((b?.minAvailable ?? 0) < w.spec.replicas || (b?.maxUnavailable ?? 0) >= 1, `${w.metadata.name}: its budget lets a drain proceed`);
  }
  const h = ofKind('HorizontalPodAutoscaler')[0]!.spec;
  t.same(h.scaleTargetRef, { kind: 'Deployment', name: 'tokios-ingress' });
  t.ok(h.minReplicas >= 2 && h.maxReplicas > h.minReplicas);
  t.same(h.metrics.map((m) => m.resource?.name ?? m.pods?.metric.name), ['cpu', 'tokios_ingress_in_flight']);
});
