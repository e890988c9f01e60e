import type { ChatMessage, ContentPart, ImagePart, ToolCall } from '../../pivot.js';
import { DROPPED_INPUT_ITEMS, IMAGE_DETAILS, ROLES } from './maps.js';
import { flatName } from './tools.js';
import type { Ignored } from '../ignored.js';
import { invalid, oneOf, requireArray, requireObject, requireString, unsupported, type Obj } from '../guard.js';

type Assistant = Extract<ChatMessage, { role: 'assistant' }>;

/**
 * Responses `input` -> pivot messages.
 *
 * - a string is one user message;
 * - message items keep their order (system/developer -> system);
 * - consecutive `function_call` items join the assistant message before them (or a new one) as `tool_calls`;
 * - a `function_call` of a namespace function is named as the model saw it (`<namespace>__<name>`);
 * - `function_call_output` -> a tool message (content parts when the output carries images, e.g. Codex view_image);
 * - a `reasoning` item's text becomes `reasoning_content` of the assistant message that follows it (an
 *   `encrypted_content` from OpenAI cannot be read here: ignored);
 * - history items of hosted tools are dropped and reported; item references need server state: 400.
 */
export function convertInput(raw: unknown, ignored: Ignored): ChatMessage[] {
  if (typeof raw === 'string') return [{ role: 'user', content: raw }];
  const items = requireArray(raw, 'input');
  const out: ChatMessage[] = [];
  let reasoning: string | null = null;

  const assistant = (extend: boolean): Assistant => {
    const last = out.at(-1);
    let msg: Assistant;
    if (extend && last?.role === 'assistant') msg = last;
    else {
      msg = { role: 'assistant', content: null };
      out.push(msg);
    }
    if (reasoning !== null) {
      msg.reasoning_content = msg.reasoning_content ? `${msg.reasoning_content}\n${reasoning}` : reasoning;
      reasoning = null;
    }
    return msg;
  };
  const flushReasoning = (): void => {
    if (reasoning !== null) assistant(false).content = '';
  };

  items.forEach((raw, i) => {
    const path = `input[${i}]`;
    const item = requireObject(raw, path);
    const type = item.type ?? 'message';
    switch (type) {
      case 'message':
        if (item.role === 'assistant') {
          const msg = assistant(false);
          msg.content = assistantText(item.content, `${path}.content`);
        } else {
          flushReasoning();
          out.push(message(item, path));
        }
        break;
      case 'function_call': {
        const msg = assistant(true);
        (msg.tool_calls ??= []).push(functionCall(item, path));
        break;
      }
      case 'function_call_output':
        flushReasoning();
        out.push(functionOutput(item, path));
        break;
      case 'reasoning': {
        const text = reasoningText(item, path, ignored);
        reasoning = reasoning === null ? text : `${reasoning}\n${text}`;
        break;
      }
      case 'item_reference':
        unsupported(`${path}.type`, 'item references need stored state; send the full item instead');
        break;
      default:
        if (typeof type !== 'string') invalid(`${path}.type`, 'must be a string');
        if (DROPPED_INPUT_ITEMS.test(type)) {
          ignored.dropped('input', type);
          break;
        }
        unsupported(`${path}.type`, `input items of type ${named(type)}are not supported; only message, function_call, function_call_output and reasoning`);
    }
  });
  flushReasoning();
  return out;
}

function message(item: Obj, path: string): ChatMessage {
  const role = oneOf(item.role, ROLES, `${path}.role`);
  if (role === 'user') {
    if (typeof item.content === 'string') return { role: 'user', content: item.content };
    const parts = requireArray(item.content, `${path}.content`).map((p, j) => userPart(requireObject(p, `${path}.content[${j}]`), `${path}.content[${j}]`));
    return { role: 'user', content: parts };
  }
  return { role: 'system', content: plainText(item.content, `${path}.content`, '\n') };
}

function userPart(part: Obj, path: string): ContentPart {
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: requireString(part.text, `${path}.text`) };
    case 'input_image':
      return image(part, path);
    default:
      if (typeof part.type !== 'string') return invalid(`${path}.type`, 'must be a string');
      return unsupported(`${path}.type`, `content parts of type ${named(part.type)}are not supported here`);
  }
}

function image(part: Obj, path: string): ImagePart {
  if (part.file_id !== undefined && part.file_id !== null) unsupported(`${path}.file_id`, 'file ids need stored files; send image_url');
  const url = requireString(part.image_url, `${path}.image_url`);
  if (part.detail === undefined || part.detail === null) return { type: 'image_url', image_url: { url } };
  const detail = oneOf(part.detail, IMAGE_DETAILS, `${path}.detail`);
  return { type: 'image_url', image_url: { url, detail } };
}

/** Text of a system/developer message: a string or input_text parts. */
function plainText(raw: unknown, path: string, joiner: string): string {
  if (typeof raw === 'string') return raw;
  return requireArray(raw, path)
    .map((p, j) => {
      const at = `${path}[${j}]`;
      const part = requireObject(p, at);
      if (part.type !== 'input_text') unsupported(`${at}.type`, 'only input_text is supported here');
      return requireString(part.text, `${at}.text`);
    })
    .join(joiner);
}

/** Text of an assistant message: a string or output_text / input_text / refusal parts. */
function assistantText(raw: unknown, path: string): string {
  if (typeof raw === 'string') return raw;
  return requireArray(raw, path)
    .map((p, j) => {
      const at = `${path}[${j}]`;
      const part = requireObject(p, at);
      if (part.type === 'output_text' || part.type === 'input_text') return requireString(part.text, `${at}.text`);
      if (part.type === 'refusal') return requireString(part.refusal, `${at}.refusal`);
      return unsupported(`${at}.type`, 'only output_text and refusal are supported in assistant messages');
    })
    .join('');
}

function functionCall(item: Obj, path: string): ToolCall {
  const name = requireString(item.name, `${path}.name`);
  const namespace = item.namespace === undefined || item.namespace === null ? undefined : requireString(item.namespace, `${path}.namespace`);
  return {
    id: requireString(item.call_id, `${path}.call_id`),
    type: 'function',
    function: { name: namespace === undefined ? name : flatName(namespace, name), arguments: requireString(item.arguments, `${path}.arguments`) },
  };
}

/** A string, or input_text / input_image parts: text only when there is no image (joined with newlines). */
function functionOutput(item: Obj, path: string): ChatMessage {
  const id = requireString(item.call_id, `${path}.call_id`);
  if (typeof item.output === 'string') return { role: 'tool', tool_call_id: id, content: item.output };
  const at = `${path}.output`;
  const parts = requireArray(item.output, at).map((p, j): ContentPart => {
    const part = requireObject(p, `${at}[${j}]`);
    if (part.type === 'input_text') return { type: 'text', text: requireString(part.text, `${at}[${j}].text`) };
    if (part.type === 'input_image') return image(part, `${at}[${j}]`);
    if (typeof part.type !== 'string') return invalid(`${at}[${j}].type`, 'must be a string');
    return unsupported(`${at}[${j}].type`, 'only input_text and input_image are supported in a function call output');
  });
  const texts = parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));
  if (texts.length === parts.length) return { role: 'tool', tool_call_id: id, content: texts.join('\n') };
  return { role: 'tool', tool_call_id: id, content: parts };
}

/** Reasoning we returned comes back as `content` (reasoning_text) or, from other servers, as `summary`. */
function reasoningText(item: Obj, path: string, ignored: Ignored): string {
  if (item.encrypted_content !== undefined && item.encrypted_content !== null) {
    requireString(item.encrypted_content, `${path}.encrypted_content`);
    ignored.field(`${path}.encrypted_content`);
  }
  const [field, kind] = item.content !== undefined && item.content !== null ? ['content', 'reasoning_text'] : ['summary', 'summary_text'];
  return requireArray(item[field], `${path}.${field}`)
    .map((p, j) => {
      const at = `${path}.${field}[${j}]`;
      const part = requireObject(p, at);
      if (part.type !== kind) invalid(`${at}.type`, `must be ${kind}`);
      return requireString(part.text, `${at}.text`);
    })
    .join('\n');
}

/** API identifiers are echoed in messages; anything else is not. */
function named(type: string): string {
  return /^[a-z0-9_.]{1,64}$/.test(type) ? `'${type}' ` : '';
}
