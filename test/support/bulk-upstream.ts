import type { IncomingMessage, ServerResponse } from 'node:http';
import { ScriptedServer, type SeenRequest } from './scripted-server.js';

/** What a bulk stream has done so far: bytes the model server wrote, and whether a write is waiting for 'drain'. */
export interface BulkStream {
  seen: SeenRequest;
  /** Events this stream sends (from the prompt). */
  events: number;
  /** Bytes handed to the socket so far. */
  written: number;
  /** A write was refused (the socket buffer is full) and the server waits for 'drain'. */
  blocked: boolean;
  done: boolean;
}

/** The content of event `i` of a bulk stream: `eventBytes` characters that say which event they are. */
export function bulkContent(i: number, eventBytes: number): string {
  const tag = `<${i}>`;
  return tag + String.fromCharCode(97 + (i % 26)).repeat(eventBytes - tag.length);
}

/**
 * An OpenAI-compatible model server that streams large answers the way a real one does: it writes only as fast as its
 * socket takes the bytes (each refused write waits for 'drain'), so a reader that stops reading stops it. The prompt
 * `bulk <n>` asks for n content events of `eventBytes` characters each. Emits 'request' with the BulkStream when a
 * stream starts, 'blocked' when a write is refused, and 'finished' with the SeenRequest.
 */
export class BulkUpstream extends ScriptedServer {
  readonly streams: BulkStream[] = [];

  constructor(
    readonly eventBytes = 64 * 1024,
    readonly model = 'bulk-model',
  ) {
    super('bulk');
  }

  static async start(eventBytes?: number): Promise<BulkUpstream> {
    const u = new BulkUpstream(eventBytes);
    await u.listen(0);
    return u;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: this.model, object: 'model', created: 1700000000, owned_by: 'bulk' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'no such route', type: 'invalid_request_error' } }));
      return;
    }
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const raw = Buffer.concat(parts);
    const body = JSON.parse(raw.toString('utf8')) as { messages?: { content?: string }[]; stream_options?: { include_usage?: boolean } };
    const events = Number(/^bulk (\d+)$/.exec(body.messages?.[0]?.content ?? '')?.[1] ?? 1);
    const seen: SeenRequest = { path: req.url ?? '', body: body as Record<string, unknown>, raw, headers: req.headers, aborted: false, finished: false };
    this.requests.push(seen);
    const s: BulkStream = { seen, events, written: 0, blocked: false, done: false };
    this.streams.push(s);
    res.on('close', () => {
      if (!seen.finished) {
        seen.aborted = true;
        this.emit('aborted', seen);
      }
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    this.emit('request', s);
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({ id: 'chatcmpl-bulk', object: 'chat.completion.chunk', created: 1700000000, model: this.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const write = async (text: string): Promise<boolean> => {
      if (res.destroyed) return false;
      s.written += Buffer.byteLength(text);
      if (res.write(text)) return true;
      s.blocked = true;
      this.emit('blocked', s);
      await new Promise<void>((resolve) => {
        const go = (): void => {
          res.off('drain', go);
          res.off('close', go);
          resolve();
        };
        res.on('drain', go);
        res.on('close', go);
      });
      s.blocked = false;
      return !res.destroyed;
    };
    if (!(await write(chunk({ role: 'assistant', content: '' }, null)))) return;
    for (let i = 0; i < events; i++) if (!(await write(chunk({ content: bulkContent(i, this.eventBytes) }, null)))) return;
    let tail = chunk({}, 'stop');
    const usage = { prompt_tokens: 1, completion_tokens: events, total_tokens: events + 1 };
    if (body.stream_options?.include_usage) tail += `data: ${JSON.stringify({ id: 'chatcmpl-bulk', object: 'chat.completion.chunk', created: 1700000000, model: this.model, choices: [], usage })}\n\n`;
    seen.finished = true;
    s.done = true;
    res.end(`${tail}data: [DONE]\n\n`);
    this.emit('finished', seen);
  }
}
