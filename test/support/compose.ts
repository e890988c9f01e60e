import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ROOT } from './processes.js';

/**
 * docker-compose.yml as the tests read it: parsed with `yaml` (merge keys on), `${VAR:-default}` interpolation, and
 * each service normalized and validated, so a malformed file fails with the service and key named.
 */

const stringList = z.union([z.string().transform((s) => s.split(/\s+/).filter(Boolean)), z.array(z.union([z.string(), z.number()]).transform(String))]);
const condition = z.enum(['service_started', 'service_healthy', 'service_completed_successfully']);

const serviceSchema = z
  .object({
    image: z.string().optional(),
    build: z.unknown().optional(),
    entrypoint: stringList.optional(),
    command: stringList.optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
    expose: z.array(z.union([z.string(), z.number()]).transform(Number)).default([]),
    ports: z
      .array(z.string().regex(/^\d+:\d+$/, 'must be "HOST:CONTAINER"'))
      .default([])
      .transform((ps) => ps.map((p) => ({ host: Number(p.split(':')[0]), container: Number(p.split(':')[1]) }))),
    volumes: z
      .array(z.string().regex(/^[^:]+:\/[^:]*(:ro)?$/, 'must be "SOURCE:/TARGET[:ro]"'))
      .default([])
      .transform((vs) =>
        vs.map((v) => {
          const [source, target, mode] = v.split(':') as [string, string, string | undefined];
          return { source, target, bind: source.startsWith('.') || source.startsWith('/'), readOnly: mode === 'ro' };
        }),
      ),
    depends_on: z.union([z.array(z.string()).transform((a) => Object.fromEntries(a.map((d) => [d, { condition: 'service_started' as const }]))), z.record(z.string(), z.object({ condition }))]).default({}),
    healthcheck: z
      .object({ test: z.array(z.string()).refine((a) => a[0] === 'CMD' && a.length > 1, 'must be ["CMD", …]'), interval: z.string(), timeout: z.string(), start_period: z.string(), retries: z.number().int().positive() })
      .optional(),
    stop_grace_period: z.string().optional(),
    stop_signal: z.string().regex(/^SIG[A-Z0-9]+$/).optional(),
    restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
    profiles: z.array(z.string()).default([]),
    user: z.string().optional(),
  })
  .strict();

export type ComposeService = z.infer<typeof serviceSchema> & { name: string; entrypoint?: string[]; command?: string[] };

export interface ComposeFile {
  services: Map<string, ComposeService>;
  volumes: string[];
}

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}` and `$$`, over every string. */
export function interpolate(value: unknown, vars: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (whole === '$$') return '$';
      const v = vars[name!];
      const unset = v === undefined || (op?.startsWith(':') === true && v === '');
      if (op?.endsWith('?') && unset) throw new Error(`docker-compose.yml: ${name} is required: ${arg}`);
      return unset && op?.endsWith('-') ? (arg ?? '') : (v ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)]));
  return value;
}

export function loadCompose(vars: Record<string, string | undefined> = {}, file = join(ROOT, 'docker-compose.yml')): ComposeFile {
  const doc = interpolate(parse(readFileSync(file, 'utf8'), { merge: true }), vars) as { services?: Record<string, unknown>; volumes?: Record<string, unknown> };
  if (typeof doc.services !== 'object' || doc.services === null) throw new Error('docker-compose.yml: no services');
  const services = new Map<string, ComposeService>();
  for (const [name, raw] of Object.entries(doc.services)) {
    const r = serviceSchema.safeParse(raw);
    if (!r.success) throw new Error(`docker-compose.yml: service ${name}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    services.set(name, { ...r.data, name });
  }
  for (const s of services.values()) {
    for (const dep of Object.keys(s.depends_on)) if (!services.has(dep)) throw new Error(`docker-compose.yml: ${s.name} depends on unknown service ${dep}`);
  }
  return { services, volumes: Object.keys(doc.volumes ?? {}) };
}

/** "45s", "1m30s", "500ms" → milliseconds (compose durations). */
export function durationMs(d: string): number {
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) throw new Error(`not a compose duration: ${d}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

/** The image's ENTRYPOINT from infra/Dockerfile (exec form), so the test runs what the image would. */
export function dockerfileEntrypoint(file = join(ROOT, 'infra/Dockerfile')): string[] {
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error('infra/Dockerfile: no exec-form ENTRYPOINT');
  return z.array(z.string()).parse(JSON.parse(m[1]!));
}

/** The WORKDIR of the Dockerfile's last stage (where the image's files live: /app). */
export function dockerfileWorkdir(file = join(ROOT, 'infra/Dockerfile')): string {
  const text = readFileSync(file, 'utf8');
  const last = text.slice(text.lastIndexOf('\nFROM '));
  const m = /^WORKDIR\s+(\S+)\s*$/m.exec(last);
  if (!m) throw new Error('infra/Dockerfile: no WORKDIR in the last stage');
  return m[1]!;
}

/**
 * The container network on loopback: every (service, container port) gets its own loopback port, and the values a
 * service sees (command, environment, config files) are rewritten accordingly. The rules are those of Docker's
 * network: `name:port` reaches that service; `0.0.0.0`, `127.0.0.1` or `localhost` with one of a service's own
 * ports is itself; `localhost:P` for a published host port P reaches the service that publishes it; a value that is
 * exactly one of the service's own ports is that port; a mount target is the directory mounted there.
 */
export class LoopbackNetwork {
  private readonly ports = new Map<string, number>();
  private readonly published = new Map<number, number>();
  private readonly mounts = new Map<string, { target: string; local: string }[]>();

  constructor(private readonly file: ComposeFile) {}

  /** Assigns loopback ports to the services that will run; `local(service, source)` resolves each volume. */
  async assign(running: ComposeService[], freePort: () => Promise<number>, local: (s: ComposeService, source: string, bind: boolean) => string, extraMounts: (s: ComposeService) => { target: string; local: string }[]): Promise<void> {
    for (const s of running) {
      for (const c of [...s.expose, ...s.ports.map((p) => p.container)]) this.ports.set(`${s.name}:${c}`, await freePort());
      for (const p of s.ports) this.published.set(p.host, this.port(s.name, p.container));
      this.mounts.set(s.name, [...s.volumes.map((v) => ({ target: v.target, local: local(s, v.source, v.bind) })), ...extraMounts(s)]);
    }
  }

  port(service: string, containerPort: number): number {
    const p = this.ports.get(`${service}:${containerPort}`);
    if (p === undefined) throw new Error(`${service} does not expose ${containerPort} (docker-compose.yml expose/ports)`);
    return p;
  }

  /** The loopback port behind published host port P. */
  publishedPort(hostPort: number): number {
    const p = this.published.get(hostPort);
    if (p === undefined) throw new Error(`no service publishes port ${hostPort}`);
    return p;
  }

  /** One value (an argv token, an env value, a config file's text) as the service `self` sees it on loopback. */
  rewrite(self: ComposeService, value: string): string {
    const own = new Set([...self.expose, ...self.ports.map((p) => p.container)]);
    if (/^\d+$/.test(value) && own.has(Number(value))) return String(this.port(self.name, Number(value)));
    if (value === '0.0.0.0') return '127.0.0.1';
    let out = value.replace(/\b([A-Za-z0-9][A-Za-z0-9_.-]*):(\d{1,5})\b/g, (whole, host: string, port: string) => {
      const p = Number(port);
      if (['0.0.0.0', '127.0.0.1', 'localhost'].includes(host)) {
        if (own.has(p)) return `127.0.0.1:${this.port(self.name, p)}`;
        if (host !== '0.0.0.0' && this.published.has(p)) return `127.0.0.1:${this.publishedPort(p)}`;
        return whole;
      }
      return this.ports.has(`${host}:${p}`) ? `127.0.0.1:${this.port(host, p)}` : whole;
    });
    for (const m of this.mounts.get(self.name) ?? []) {
      out = out.replace(new RegExp(`(^|[=,\\s"'])${m.target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?=/|$|[\\s;"',])`, 'g'), `$1${m.local}`);
    }
    return out;
  }

  get services(): Map<string, ComposeService> {
    return this.file.services;
  }
}
