import type { ChatMessage, ContentPart, ToolCall } from '../../pivot.js';
import { DROPPED_ASSISTANT_BLOCKS, IMAGE_MEDIA_TYPES, TOOL_ERROR_PREFIX, TOOL_REFERENCE_TEXT } from './maps.js';
import type { Ignored } from '../ignored.js';
import { invalid, isObject, oneOf, requireArray, requireObject, requireString, unsupported, type Obj } from '../guard.js';

/**
 * Anthropic `messages` (and `system`) -> pivot messages.
 *
 * - user `tool_result` blocks become one `tool` message each, placed BEFORE the rest of that user turn,
 *   which follows as a user message (only if anything is left);
 * - assistant `text` + `tool_use` + `thinking` blocks become one assistant message;
 * - `role: "system"` inside `messages` becomes a system message in place (recent Claude Code sends one);
 * - a `tool_result` keeps its images (screenshots, a Read of a picture) as image parts of the tool message, and a
 *   `tool_reference` (a deferred tool the client loaded) reads as text: every tool is sent anyway;
 * - assistant history blocks of Anthropic's server tools and `redacted_thinking` are dropped and reported;
 * - `cache_control` (reported) and `citations` are accepted and not forwarded (no effect on the answer).
 */
export function convertMessages(raw: unknown, ignored: Ignored): ChatMessage[] {
  const list = requireArray(raw, 'messages');
  if (list.length === 0) invalid('messages', 'must contain at least one message');
  const out: ChatMessage[] = [];
  list.forEach((item, i) => {
    const path = `messages[${i}]`;
    const msg = requireObject(item, path);
    switch (msg.role) {
      case 'user':
        convertUser(msg.content, `${path}.content`, out, ignored);
        break;
      case 'assistant':
        out.push(convertAssistant(msg.content, `${path}.content`, ignored));
        break;
      case 'system':
        out.push({ role: 'system', content: systemText(msg.content, `${path}.content`, ignored) });
        break;
      default:
        invalid(`${path}.role`, 'must be one of user, assistant, system');
    }
  });
  return out;
}

/** `system`: a string or text blocks, joined with newlines. */
export function systemText(raw: unknown, path: string, ignored: Ignored): string {
  if (typeof raw === 'string') return raw;
  const blocks = requireArray(raw, path);
  return blocks.map((b, j) => textOf(requireObject(b, `${path}[${j}]`), `${path}[${j}]`, ignored)).join('\n');
}

function textOf(block: Obj, path: string, ignored: Ignored): string {
  if (block.type !== 'text') invalid(`${path}.type`, 'only text blocks are allowed here');
  cacheHint(block, path, ignored);
  return requireString(block.text, `${path}.text`);
}

/** Prompt-cache breakpoints are Anthropic's; a local server caches prompts its own way. */
function cacheHint(block: Obj, path: string, ignored: Ignored): void {
  if (block.cache_control === undefined || block.cache_control === null) return;
  requireObject(block.cache_control, `${path}.cache_control`);
  ignored.field(`${path}.cache_control`);
}

function blocksOf(raw: unknown, path: string): Obj[] {
  const blocks = requireArray(raw, path);
  if (blocks.length === 0) invalid(path, 'must not be empty');
  return blocks.map((b, j) => requireObject(b, `${path}[${j}]`));
}

function convertUser(raw: unknown, path: string, out: ChatMessage[], ignored: Ignored): void {
  if (typeof raw === 'string') {
    out.push({ role: 'user', content: raw });
    return;
  }
  const parts: ContentPart[] = [];
  blocksOf(raw, path).forEach((block, j) => {
    const at = `${path}[${j}]`;
    cacheHint(block, at, ignored);
    switch (block.type) {
      case 'tool_result':
        out.push(toolResult(block, at, ignored));
        break;
      case 'text':
        parts.push({ type: 'text', text: requireString(block.text, `${at}.text`) });
        break;
      case 'image':
        parts.push(image(block, at));
        break;
      default:
        unsupportedBlock(block, at);
    }
  });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
}

function convertAssistant(raw: unknown, path: string, ignored: Ignored): ChatMessage {
  if (typeof raw === 'string') return { role: 'assistant', content: raw };
  const texts: string[] = [];
  const thinking: string[] = [];
  const calls: ToolCall[] = [];
  blocksOf(raw, path).forEach((block, j) => {
    const at = `${path}[${j}]`;
    cacheHint(block, at, ignored);
    switch (block.type) {
      case 'text':
        texts.push(requireString(block.text, `${at}.text`));
        break;
      case 'tool_use':
        calls.push(toolUse(block, at));
        break;
      case 'thinking':
        // The signature only means something to Anthropic; the text goes back as the turn's reasoning.
        thinking.push(requireString(block.thinking, `${at}.thinking`));
        break;
      default:
        if (typeof block.type === 'string' && DROPPED_ASSISTANT_BLOCKS.test(block.type)) ignored.dropped(path, block.type);
        else unsupportedBlock(block, at);
    }
  });
  const content = texts.length > 0 ? texts.join('\n') : calls.length > 0 ? null : '';
  return {
    role: 'assistant',
    content,
    ...(calls.length > 0 && { tool_calls: calls }),
    ...(thinking.length > 0 && { reasoning_content: thinking.join('\n') }),
  };
}

function toolUse(block: Obj, path: string): ToolCall {
  const id = requireString(block.id, `${path}.id`);
  const name = requireString(block.name, `${path}.name`);
  if (!isObject(block.input)) invalid(`${path}.input`, 'must be an object');
  return { id, type: 'function', function: { name, arguments: JSON.stringify(block.input) } };
}

/**
 * One tool_result -> one tool message: text only (joined with newlines) when it has no images, else content parts
 * (the upstream adapters place the images where their server takes them).
 */
function toolResult(block: Obj, path: string, ignored: Ignored): ChatMessage {
  const id = requireString(block.tool_use_id, `${path}.tool_use_id`);
  const texts: string[] = [];
  const images: ContentPart[] = [];
  if (typeof block.content === 'string') texts.push(block.content);
  else if (block.content !== undefined && block.content !== null) {
    requireArray(block.content, `${path}.content`).forEach((b, k) => {
      const at = `${path}.content[${k}]`;
      const obj = requireObject(b, at);
      cacheHint(obj, at, ignored);
      switch (obj.type) {
        case 'text':
          texts.push(requireString(obj.text, `${at}.text`));
          break;
        case 'image':
          images.push(image(obj, at));
          break;
        case 'tool_reference':
          texts.push(TOOL_REFERENCE_TEXT + requireString(obj.tool_name, `${at}.tool_name`));
          break;
        default:
          if (typeof obj.type !== 'string') invalid(`${at}.type`, 'must be a string');
          unsupported(`${at}.type`, 'only text, image and tool_reference are supported inside tool_result');
      }
    });
  }
  let text = texts.join('\n');
  if (block.is_error === true) text = TOOL_ERROR_PREFIX + text;
  if (images.length === 0) return { role: 'tool', tool_call_id: id, content: text };
  return { role: 'tool', tool_call_id: id, content: text.length > 0 ? [{ type: 'text', text }, ...images] : images };
}

function image(block: Obj, path: string): ContentPart {
  const source = requireObject(block.source, `${path}.source`);
  switch (source.type) {
    case 'base64': {
      const mediaType = oneOf(source.media_type, IMAGE_MEDIA_TYPES, `${path}.source.media_type`);
      const data = requireString(source.data, `${path}.source.data`);
      return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
    }
    case 'url':
      return { type: 'image_url', image_url: { url: requireString(source.url, `${path}.source.url`) } };
    default:
      return unsupported(`${path}.source.type`, 'only base64 and url image sources are supported');
  }
}

function unsupportedBlock(block: Obj, path: string): never {
  if (typeof block.type !== 'string') invalid(`${path}.type`, 'must be a string');
  // Block type names are API identifiers; anything else is not echoed back.
  const kind = /^[a-z0-9_]{1,64}$/.test(block.type) ? `'${block.type}' ` : '';
  return unsupported(`${path}.type`, `content blocks of type ${kind}are not supported here`);
}
