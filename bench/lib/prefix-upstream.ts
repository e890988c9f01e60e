/**
 * A scripted OpenAI-compatible model server with a prefix cache, for the affinity phase (in the bench's own process:
 * it only keeps hashes and sets timers). Time to the first token is charged per prompt token it has not seen as a
 * prefix before — as llama.cpp slots, vLLM/SGLang prefix caching and Ollama's loaded context behave — so whether a
 * session's turns come back to the same server shows in the TTFT.
 *
 * The cache works on message boundaries: a request's messages m[0..n] hit the longest m[0..k] an earlier request on this
 * server carried (as a whole prompt or a prefix of one). Like a GPU's KV cache it has a size: each conversation (by its
 * first message) holds its longest prompt's tokens, and the least recently used conversations are evicted past
 * `capacityTokens`. Tokens are estimated as characters / 4.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PrefixCost {
  /** Milliseconds per prompt token not in the cache (prefill). */
  uncachedMsPerToken: number;
  /** Milliseconds per cached prompt token. */
  cachedMsPerToken: number;
  /** Answer chunks after the first token, and the time between them. */
  chunks: number;
  chunkMs: number;
  /** KV cache size, in tokens, over all conversations. */
  capacityTokens: number;
}

export interface TurnStats {
  promptTokens: number;
  cachedTokens: number;
  /** A later turn of a conversation (more than a system prompt and one user message). */
  followUp: boolean;
  /** A follow-up whose whole earlier conversation was cached here: only the last answer and the new message were not. */
  hit: boolean;
}

const tokens = (chars: number): number => Math.ceil(chars / 4);

/** One conversation's cached prompt prefixes (hashes at message boundaries) and the tokens they hold. */
interface Conversation {
  prefixes: Set<string>;
  tokens: number;
}

export class PrefixCacheServer {
  /** By the hash of the first message, least recently used first. */
  private readonly cache = new Map<string, Conversation>();
  private cachedTokens = 0;
  private server: Server | undefined;
  readonly turns: TurnStats[] = [];
  url = '';

  constructor(
    readonly name: string,
    private readonly cost: PrefixCost,
  ) {}

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.route(req, res));
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Forgets everything (a fresh server for the next placement policy). */
  reset(): void {
    this.cache.clear();
    this.cachedTokens = 0;
    this.turns.length = 0;
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: this.name, object: 'model', owned_by: 'bench' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let messages: unknown[] = [];
      try {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { messages?: unknown };
        if (Array.isArray(body.messages)) messages = body.messages;
      } catch {
        res.writeHead(400).end();
        return;
      }
      this.answer(messages, res);
    });
  }

  /** Charges the prefill, then streams the answer (chat.completion.chunk lines). */
  private answer(messages: unknown[], res: ServerResponse): void {
    const hash = createHash('sha256');
    let chars = 0;
    let cachedChars = 0;
    /** Characters of all but the last two messages (what the previous turn's prompt was). */
    let earlierChars = 0;
    const seen: string[] = [];
    let convo: Conversation | undefined;
    let convoKey = '';
    messages.forEach((m, i) => {
      const text = JSON.stringify(m);
      hash.update(text);
      chars += text.length;
      if (i < messages.length - 2) earlierChars = chars;
      const key = hash.copy().digest('hex');
      if (i === 0) {
        convoKey = key;
        convo = this.cache.get(key);
      }
      if (convo?.prefixes.has(key)) cachedChars = chars;
      seen.push(key);
    });
    // The conversation is now the most recently used; it holds this prompt's tokens; older ones go past the capacity.
    if (convo) this.cache.delete(convoKey);
    else convo = { prefixes: new Set(), tokens: 0 };
    for (const key of seen) convo.prefixes.add(key);
    this.cachedTokens += tokens(chars) - convo.tokens;
    convo.tokens = tokens(chars);
    this.cache.set(convoKey, convo);
    for (const [k, c] of this.cache) {
      if (this.cachedTokens <= this.cost.capacityTokens || c === convo) break;
      this.cache.delete(k);
      this.cachedTokens -= c.tokens;
    }
    const promptTokens = tokens(chars);
    const cachedTokens = tokens(cachedChars);
    const followUp = messages.length > 2;
    this.turns.push({ promptTokens, cachedTokens, followUp, hit: followUp && cachedChars >= earlierChars });
    const prefillMs = (promptTokens - cachedTokens) * this.cost.uncachedMsPerToken + cachedTokens * this.cost.cachedMsPerToken;
    const id = `chatcmpl-${seen.length}`;
    const chunk = (delta: unknown, finish: string | null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: this.name, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    let closed = false;
    res.on('close', () => (closed = true));
    setTimeout(() => {
      if (closed) return;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(chunk({ role: 'assistant', content: `${this.name}:` }, null));
      let n = 0;
      const next = (): void => {
        if (closed) return;
        if (n++ < this.cost.chunks) {
          res.write(chunk({ content: ` tok${n}` }, null));
          setTimeout(next, this.cost.chunkMs);
          return;
        }
        res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
      };
      setTimeout(next, this.cost.chunkMs);
    }, prefillMs);
  }
}
