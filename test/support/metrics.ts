/** One Prometheus sample: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (what prom-client renders): comments skipped, one sample per line. */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** GET /metrics of a service; throws unless 200 with the Prometheus content type. */
export async function scrape(base: string, token?: string): Promise<{ text: string; samples: Sample[] }> {
  const r = await fetch(`${base}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await r.text();
  if (r.status !== 200) throw new Error(`GET ${base}/metrics: ${r.status} ${text.slice(0, 200)}`);
  if (!(r.headers.get('content-type') ?? '').startsWith('text/plain')) throw new Error(`GET ${base}/metrics: content type ${r.headers.get('content-type')}`);
  return { text, samples: parsePrometheus(text) };
}

/** The sum of the samples of `name` whose labels include `labels` (0 when none). */
export function metric(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Whether any sample of `name` exists (a metric with no series yet renders only its HELP and TYPE lines). */
export function hasMetric(samples: Sample[], name: string): boolean {
  return samples.some((s) => s.name === name || s.name.startsWith(`${name}_`));
}
