import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ScriptedServer, type SeenRequest } from '../support/scripted-server.js';
import { decide, offeredTools, type Turn } from './scenario.js';

/** A request as the capture responder saw it: everything a fixture keeps. */
export interface Recorded extends SeenRequest {
  method: string;
  /** Path with the query string, as sent. */
  url: string;
}

const id = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

/**
 * A plain scripted server for the three caller APIs (Anthropic Messages with count_tokens and models, OpenAI Chat
 * Completions, OpenAI Responses), streamed and whole, playing the scenario script: good enough for real clients to
 * go on to their typical follow-up requests, so the capture records what they send on every turn. Not a gateway:
 * it accepts any body and records it; unknown routes get a 404 (and are recorded too).
 */
export class CallerResponder extends ScriptedServer {
  declare readonly requests: Recorded[];
  /** The working folder of the client being recorded (image tools want absolute paths). */
  cwd: string | undefined;

  constructor(readonly model = 'tokios-model') {
    super('capture');
  }

  static async start(): Promise<CallerResponder> {
    const r = new CallerResponder();
    await r.listen();
    return r;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const raw = Buffer.concat(parts);
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        body = {};
      }
    }
    const url = req.url ?? '/';
    const seen: Recorded = { method: req.method ?? 'GET', url, path: url.split('?')[0]!, body, raw, headers: req.headers, aborted: false, finished: true };
    this.requests.push(seen);
    this.emit('request', seen);
    const route = seen.path.replace(/^(\/v1)+/, '');
    if (seen.method === 'GET' && route === '/models') return json(res, 200, { object: 'list', data: [this.modelEntry(this.model)], has_more: false, first_id: this.model, last_id: this.model });
    if (seen.method === 'GET' && route.startsWith('/models/')) return json(res, 200, this.modelEntry(decodeURIComponent(route.slice('/models/'.length))));
    if (seen.method !== 'POST') return json(res, 404, { error: { message: `no route ${seen.method} ${url}`, type: 'not_found' } });
    const model = typeof body.model === 'string' ? body.model : this.model;
    const turn = decide(raw.toString('utf8'), offeredTools(body), this.cwd);
    const stream = body.stream === true;
    switch (route) {
      case '/messages/count_tokens':
        return json(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
      case '/messages':
        return stream ? anthropicStream(res, model, turn) : json(res, 200, anthropicMessage(model, turn));
      case '/chat/completions':
        return stream ? chatStream(res, model, turn, body) : json(res, 200, chatCompletion(model, turn));
      case '/responses':
        return stream ? responsesStream(res, model, turn) : json(res, 200, responseObject(model, turn, 'completed'));
      default:
        return json(res, 404, { error: { message: `no route POST ${url}`, type: 'not_found' } });
    }
  }

  /** One model entry in OpenAI's and Anthropic's shapes at once (each SDK reads its own fields). */
  private modelEntry(name: string): Record<string, unknown> {
    return { id: name, object: 'model', created: 1735689600, owned_by: 'tokios', type: 'model', display_name: name, created_at: '2025-01-01T00:00:00Z' };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sse(res: ServerResponse): (event: string | null, data: unknown) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  return (event, data) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

const USAGE = { input: 12, output: 5 };

// --- Anthropic Messages ---

function anthropicContent(turn: Turn): Record<string, unknown>[] {
  return turn.kind === 'text' ? [{ type: 'text', text: turn.text }] : [{ type: 'tool_use', id: id('toolu_'), name: turn.name, input: turn.arguments }];
}

function anthropicMessage(model: string, turn: Turn): Record<string, unknown> {
  return {
    id: id('msg_'), type: 'message', role: 'assistant', model, content: anthropicContent(turn),
    stop_reason: turn.kind === 'tool' ? 'tool_use' : 'end_turn', stop_sequence: null,
    usage: { input_tokens: USAGE.input, output_tokens: USAGE.output },
  };
}

function anthropicStream(res: ServerResponse, model: string, turn: Turn): void {
  const send = sse(res);
  const message = anthropicMessage(model, turn);
  send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: USAGE.input, output_tokens: 1 } } });
  const [block] = anthropicContent(turn) as [Record<string, unknown>];
  if (turn.kind === 'text') {
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: turn.text } });
  } else {
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { ...block, input: {} } });
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(turn.arguments) } });
  }
  send('content_block_stop', { type: 'content_block_stop', index: 0 });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { input_tokens: USAGE.input, output_tokens: USAGE.output } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

// --- OpenAI Chat Completions ---

function chatMessage(turn: Turn): Record<string, unknown> {
  if (turn.kind === 'text') return { role: 'assistant', content: turn.text };
  return { role: 'assistant', content: null, tool_calls: [{ id: id('call_'), type: 'function', function: { name: turn.name, arguments: JSON.stringify(turn.arguments) } }] };
}

const chatUsage = { prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output };

function chatCompletion(model: string, turn: Turn): Record<string, unknown> {
  return {
    id: id('chatcmpl-'), object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message: chatMessage(turn), logprobs: null, finish_reason: turn.kind === 'tool' ? 'tool_calls' : 'stop' }],
    usage: chatUsage,
  };
}

function chatStream(res: ServerResponse, model: string, turn: Turn, body: Record<string, unknown>): void {
  const send = sse(res);
  const base = { id: id('chatcmpl-'), object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
  const chunk = (delta: Record<string, unknown>, finish: string | null) => send(null, { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  chunk({ role: 'assistant', content: '' }, null);
  if (turn.kind === 'text') chunk({ content: turn.text }, null);
  else {
    const m = chatMessage(turn) as { tool_calls: { id: string; function: { name: string; arguments: string } }[] };
    const call = m.tool_calls[0]!;
    chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, null);
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] }, null);
  }
  chunk({}, turn.kind === 'tool' ? 'tool_calls' : 'stop');
  if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) send(null, { ...base, choices: [], usage: chatUsage });
  send(null, '[DONE]');
  res.end();
}

// --- OpenAI Responses ---

function responseItem(turn: Turn, status: 'in_progress' | 'completed'): Record<string, unknown> {
  if (turn.kind === 'text') {
    return { id: id('msg_'), type: 'message', status, role: 'assistant', content: status === 'completed' ? [{ type: 'output_text', text: turn.text, annotations: [], logprobs: [] }] : [] };
  }
  return { id: id('fc_'), type: 'function_call', status, call_id: id('call_'), name: turn.name, arguments: status === 'completed' ? JSON.stringify(turn.arguments) : '' };
}

function responseObject(model: string, turn: Turn | null, status: 'in_progress' | 'completed', output?: Record<string, unknown>[]): Record<string, unknown> {
  return {
    id: id('resp_'), object: 'response', created_at: Math.floor(Date.now() / 1000), status, error: null, incomplete_details: null,
    model, output: output ?? (turn ? [responseItem(turn, 'completed')] : []), parallel_tool_calls: true, tool_choice: 'auto', tools: [],
    usage: status === 'completed'
      ? { input_tokens: USAGE.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: USAGE.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.input + USAGE.output }
      : null,
  };
}

function responsesStream(res: ServerResponse, model: string, turn: Turn): void {
  const write = sse(res);
  let seq = 0;
  const send = (type: string, data: Record<string, unknown>) => write(type, { type, sequence_number: seq++, ...data });
  const shell = responseObject(model, null, 'in_progress');
  send('response.created', { response: shell });
  send('response.in_progress', { response: shell });
  const started = responseItem(turn, 'in_progress');
  const itemId = started.id as string;
  send('response.output_item.added', { output_index: 0, item: started });
  let done: Record<string, unknown>;
  if (turn.kind === 'text') {
    const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    send('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part });
    send('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: turn.text, logprobs: [] });
    send('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text: turn.text, logprobs: [] });
    send('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: turn.text } });
    done = { ...started, status: 'completed', content: [{ ...part, text: turn.text }] };
  } else {
    const args = JSON.stringify(turn.arguments);
    send('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta: args });
    send('response.function_call_arguments.done', { item_id: itemId, output_index: 0, arguments: args });
    done = { ...started, status: 'completed', arguments: args };
  }
  send('response.output_item.done', { output_index: 0, item: done });
  send('response.completed', { response: { ...responseObject(model, null, 'completed', [done]), id: shell.id, created_at: shell.created_at } });
  res.end();
}
