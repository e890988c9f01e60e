import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ROOT } from './processes.js';

/**
 * infra/k8s rendered as `kubectl kustomize` would for this base (resources in order, namespace, labels, images),
 * each object validated by kind for the parts the tests read.
 */
export const K8S_DIR = join(ROOT, 'infra/k8s');

const meta = z.object({ name: z.string(), namespace: z.string().optional(), labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() });
const portRef = z.union([z.number(), z.string()]);
const probe = z.object({ httpGet: z.object({ path: z.string(), port: portRef }) });
const envVar = z.object({ name: z.string(), value: z.string().optional(), valueFrom: z.unknown().optional() });
const container = z.object({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).default([]),
  env: z.array(envVar).default([]),
  envFrom: z.array(z.object({ secretRef: z.object({ name: z.string() }) })).default([]),
  ports: z.array(z.object({ name: z.string().optional(), containerPort: z.number() })).default([]),
  readinessProbe: probe.optional(),
  livenessProbe: probe.optional(),
  lifecycle: z.object({ preStop: z.object({ exec: z.object({ command: z.array(z.string()) }) }) }).optional(),
});
const workload = z.object({
  replicas: z.number().int(),
  serviceName: z.string().optional(),
  selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
  template: z.object({
    metadata: z.object({ labels: z.record(z.string(), z.string()) }),
    spec: z.object({ terminationGracePeriodSeconds: z.number().int(), containers: z.array(container).min(1) }),
  }),
});
const service = z.object({
  clusterIP: z.string().optional(),
  selector: z.record(z.string(), z.string()),
  ports: z.array(z.object({ name: z.string(), port: z.number(), targetPort: portRef })),
});
const backend = z.object({ service: z.object({ name: z.string(), port: z.object({ name: z.string() }) }) });
const ingress = z.object({ rules: z.array(z.object({ host: z.string(), http: z.object({ paths: z.array(z.object({ path: z.string(), pathType: z.string(), backend })) }) })) });
const pdb = z.object({ selector: z.object({ matchLabels: z.record(z.string(), z.string()) }), minAvailable: z.number().optional(), maxUnavailable: z.number().optional() });
const hpa = z.object({
  scaleTargetRef: z.object({ kind: z.string(), name: z.string() }),
  minReplicas: z.number(),
  maxReplicas: z.number(),
  metrics: z.array(z.object({ type: z.string(), resource: z.object({ name: z.string() }).optional(), pods: z.object({ metric: z.object({ name: z.string() }) }).optional() })),
});

export const k8sObject = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('Namespace'), metadata: meta }),
  z.object({ kind: z.literal('ConfigMap'), metadata: meta, data: z.record(z.string(), z.string()) }),
  z.object({ kind: z.literal('Deployment'), metadata: meta, spec: workload }),
  z.object({ kind: z.literal('StatefulSet'), metadata: meta, spec: workload }),
  z.object({ kind: z.literal('Service'), metadata: meta, spec: service }),
  z.object({ kind: z.literal('Ingress'), metadata: meta, spec: ingress }),
  z.object({ kind: z.literal('PodDisruptionBudget'), metadata: meta, spec: pdb }),
  z.object({ kind: z.literal('HorizontalPodAutoscaler'), metadata: meta, spec: hpa }),
]);
export type K8sObject = z.infer<typeof k8sObject>;
export type Workload = Extract<K8sObject, { kind: 'Deployment' | 'StatefulSet' }>;
export type Container = z.infer<typeof container>;

const kustomization = z.object({
  namespace: z.string(),
  labels: z.array(z.object({ pairs: z.record(z.string(), z.string()) })).default([]),
  resources: z.array(z.string()).min(1),
  images: z.array(z.object({ name: z.string(), newName: z.string().optional(), newTag: z.string().optional() })).default([]),
});

/** The raw objects of the base, transformed as kustomize does for these fields. */
export function renderKustomization(dir = K8S_DIR): Record<string, any>[] {
  const kz = kustomization.parse(parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')));
  const out: Record<string, any>[] = [];
  for (const file of kz.resources) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`infra/k8s/${file}: ${doc.errors[0]!.message}`);
      const o = doc.toJS() as Record<string, any> | null;
      if (!o) continue;
      o.metadata ??= {};
      if (o.kind !== 'Namespace') o.metadata.namespace = kz.namespace;
      for (const l of kz.labels) o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
      for (const c of (o.spec?.template?.spec?.containers ?? []) as { image: string }[]) {
        const [name, tag] = c.image.split(':');
        const img = kz.images.find((i) => i.name === name);
        if (img) c.image = `${img.newName ?? name}:${img.newTag ?? tag ?? 'latest'}`;
      }
      out.push(o);
    }
  }
  return out;
}

/** Each rendered object validated (a kind the tests do not know fails here, naming it). */
export function loadManifests(dir = K8S_DIR): K8sObject[] {
  return renderKustomization(dir).map((o) => {
    const r = k8sObject.safeParse(o);
    if (!r.success) throw new Error(`infra/k8s: ${String(o.kind)} ${String(o.metadata?.name)}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return r.data;
  });
}

/** `kubectl kustomize` of the base, when kubectl is installed (a cross-check of renderKustomization). */
export function kubectlKustomize(dir = K8S_DIR): Record<string, any>[] | undefined {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any>);
}

/** Whether a selector picks pods with these labels. */
export const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
