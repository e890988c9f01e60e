import { TokiosError } from '../../../errors/registry.js';
import type { UpstreamHttpRequest } from '../../adapter.js';
import type { ChatMessage, ChatRequest, ContentPart, ResponseFormat, ToolCall } from '../../pivot.js';
import { isRecord, parseJson } from '../../util.js';
import { OLLAMA_STREAM_HEADERS } from '../headers.js';

export const OLLAMA_CHAT_PATH = '/api/chat';

/** A message as Ollama's /api/chat takes it. */
export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  images?: string[];
  thinking?: string;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: Record<string, unknown> } }>;
  /** On tool results: the function that produced it (Ollama correlates by name). */
  tool_name?: string;
  tool_call_id?: string;
}

/**
 * ChatRequest -> body of POST /api/chat (always streamed, NDJSON).
 *
 * Decisions (each one is "honour or reject", never drop silently):
 *  - Text parts of one message are joined with "\n"; base64 data-URL images go to `images` without the
 *    `data:…;base64,` prefix, on user messages and on tool results alike. http(s) image URLs are rejected
 *    (Ollama cannot fetch them).
 *  - Assistant tool calls carry `arguments` as an object (parsed from the JSON text; invalid JSON or a
 *    non-object is a 400). Tool results become role "tool" with `tool_name` found from the matching call.
 *  - max_tokens -> options.num_predict, stop -> options.stop, temperature/top_p/top_k/seed -> options.
 *  - tool_choice: `auto` is Ollama's behaviour; `none` is honoured by not sending tools; `required` or a named
 *    function cannot be enforced -> 400 unsupported_parameter. parallel_tool_calls:false likewise (when tools
 *    are sent).
 *  - response_format -> `format`: "json" for json_object, the JSON Schema itself for json_schema (Ollama constrains
 *    the output to it by grammar, so `strict` holds either way; a json_schema without a schema is "json").
 *  - `user` is caller metadata with no effect on generation; Ollama has no field for it, so it is not sent.
 */
export function buildOllamaRequest(req: ChatRequest, options: { model: string }): UpstreamHttpRequest {
  const body: Record<string, unknown> = {
    model: options.model,
    messages: toOllamaMessages(req.messages),
    stream: true,
  };
  const sendTools = req.tools !== undefined && req.tools.length > 0 && req.tool_choice !== 'none';
  if (sendTools) {
    const choice = req.tool_choice;
    if (choice !== undefined && choice !== 'auto') {
      throw new TokiosError('unsupported_parameter', 'This deployment (Ollama) cannot force a tool call; use tool_choice "auto" or "none".', { param: 'tool_choice' });
    }
    if (req.parallel_tool_calls === false) {
      throw new TokiosError('unsupported_parameter', 'This deployment (Ollama) cannot limit the model to one tool call per turn.', { param: 'parallel_tool_calls' });
    }
    body['tools'] = req.tools;
  } else if (req.tool_choice !== undefined && req.tool_choice !== 'none' && req.tool_choice !== 'auto') {
    throw new TokiosError('invalid_request', 'tool_choice requires tools.', { param: 'tool_choice' });
  }
  if (req.response_format !== undefined) body['format'] = ollamaFormat(req.response_format);
  const opts: Record<string, unknown> = {};
  if (req.temperature !== undefined) opts['temperature'] = req.temperature;
  if (req.top_p !== undefined) opts['top_p'] = req.top_p;
  if (req.top_k !== undefined) opts['top_k'] = req.top_k;
  if (req.max_tokens !== undefined) opts['num_predict'] = req.max_tokens;
  if (req.stop !== undefined && req.stop.length > 0) opts['stop'] = req.stop;
  if (req.seed !== undefined) opts['seed'] = req.seed;
  if (Object.keys(opts).length > 0) body['options'] = opts;
  return {
    path: OLLAMA_CHAT_PATH,
    body: JSON.stringify(body),
    headers: OLLAMA_STREAM_HEADERS,
  };
}

/** Ollama's `format`: "json" or a JSON Schema object. */
function ollamaFormat(format: ResponseFormat): 'json' | Record<string, unknown> {
  return format.type === 'json_schema' && format.json_schema.schema !== undefined ? format.json_schema.schema : 'json';
}

export function toOllamaMessages(messages: ChatMessage[]): OllamaMessage[] {
  const toolNames = new Map<string, string>();
  const out: OllamaMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    switch (m.role) {
      case 'system':
        out.push({ role: 'system', content: m.content });
        break;
      case 'user':
        out.push(userMessage(m.content, i));
        break;
      case 'assistant': {
        const msg: OllamaMessage = { role: 'assistant', content: m.content ?? '' };
        if (m.reasoning_content !== undefined && m.reasoning_content.length > 0) msg.thinking = m.reasoning_content;
        if (m.tool_calls !== undefined && m.tool_calls.length > 0) {
          msg.tool_calls = m.tool_calls.map((call, j) => {
            toolNames.set(call.id, call.function.name);
            return { id: call.id, function: { name: call.function.name, arguments: argumentsObject(call, i, j) } };
          });
        }
        out.push(msg);
        break;
      }
      case 'tool': {
        // Images of a tool result go on the tool message: Ollama reads `images` on any role.
        const msg: OllamaMessage = { role: 'tool', ...withImages(m.content, i), tool_call_id: m.tool_call_id };
        const name = toolNames.get(m.tool_call_id);
        if (name !== undefined) msg.tool_name = name;
        out.push(msg);
        break;
      }
    }
  }
  return out;
}

function userMessage(content: string | ContentPart[], i: number): OllamaMessage {
  return { role: 'user', ...withImages(content, i) };
}

/** Text parts joined with "\n"; images as base64 payloads. */
function withImages(content: string | ContentPart[], i: number): { content: string; images?: string[] } {
  if (typeof content === 'string') return { content };
  let text = '';
  let first = true;
  const images: string[] = [];
  for (let j = 0; j < content.length; j++) {
    const part = content[j]!;
    if (part.type === 'text') {
      text = first ? part.text : text + '\n' + part.text;
      first = false;
    } else {
      images.push(base64Image(part.image_url.url, `messages[${i}].content[${j}].image_url.url`));
    }
  }
  return images.length > 0 ? { content: text, images } : { content: text };
}

/** `data:<mime>;base64,<payload>` -> payload. URLs cannot be fetched by Ollama. */
export function base64Image(url: string, param: string): string {
  if (!url.startsWith('data:')) {
    throw new TokiosError('unsupported_parameter', 'This deployment (Ollama) only takes images as base64 data URLs, not links.', { param });
  }
  const comma = url.indexOf(',');
  if (comma === -1 || !url.slice(0, comma).endsWith(';base64')) {
    throw new TokiosError('invalid_request', 'An image data URL must be base64-encoded (data:<type>;base64,<data>).', { param });
  }
  const payload = url.slice(comma + 1);
  if (payload.length === 0) throw new TokiosError('invalid_request', 'An image data URL is empty.', { param });
  return payload;
}

function argumentsObject(call: ToolCall, i: number, j: number): Record<string, unknown> {
  const text = call.function.arguments;
  if (text.trim().length === 0) return {};
  const parsed = parseJson(text);
  if (!parsed.ok || !isRecord(parsed.value)) {
    throw new TokiosError('invalid_request', 'Tool call arguments must be a JSON object.', {
      param: `messages[${i}].tool_calls[${j}].function.arguments`,
    });
  }
  return parsed.value;
}
