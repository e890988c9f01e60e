import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the admin API of a running stack with a given credential. */
export class AdminClient {
  constructor(
    readonly base: string,
    private readonly auth: { bearer?: string; cookie?: string; headers?: Record<string, string> } = {},
  ) {}

  as(auth: { bearer?: string; cookie?: string; headers?: Record<string, string> }): AdminClient {
    return new AdminClient(this.base, auth);
  }

  async call<T = any>(method: string, path: string, body?: unknown, extra: { raw?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...this.auth.headers, ...extra.headers };
    if (this.auth.bearer) headers.authorization = `Bearer ${this.auth.bearer}`;
    if (this.auth.cookie) headers.cookie = this.auth.cookie;
    let payload: string | undefined;
    if (extra.raw !== undefined) payload = extra.raw;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}/admin/v1${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json as T, headers: res.headers };
  }

  get = <T = any>(path: string) => this.call<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.call<T>('POST', path, body);
  put = <T = any>(path: string, body?: unknown) => this.call<T>('PUT', path, body);
  del = <T = any>(path: string) => this.call<T>('DELETE', path);
}

/** Collects control events (`tokios.ctl.*`) seen on NATS, for assertions. */
export class EventTap {
  readonly events: { subject: string; data: any }[] = [];
  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
  ) {}

  static async start(url: string): Promise<EventTap> {
    const nc = await connect({ servers: url });
    const tap: EventTap = new EventTap(nc, nc.subscribe('tokios.ctl.>', {
      callback: (_e, m) => tap.events.push({ subject: m.subject, data: JSON.parse(Buffer.from(m.data).toString('utf8')) }),
    }));
    await nc.flush();
    return tap;
  }

  /** Waits (bounded) until an event on `subject` matching `pred` has arrived. */
  async waitFor(subject: string, pred: (d: any) => boolean = () => true, timeoutMs = 3_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => e.subject === subject && pred(e.data));
      if (hit) return hit.data;
      if (Date.now() > deadline) throw new Error(`no ${subject} event within ${timeoutMs} ms; saw ${JSON.stringify(this.events.map((e) => e.subject))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.close();
  }
}

/** Every file under a directory, as text (to grep a data dir for secrets). */
export async function readTree(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await readTree(p)));
    else out.push({ path: p, text: await readFile(p, 'utf8') });
  }
  return out;
}

/** Polls `fn` until it returns a truthy value, within a bound; no blind sleeps. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
