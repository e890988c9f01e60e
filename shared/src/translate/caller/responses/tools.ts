import type { ChatTool, ChatToolChoice } from '../../pivot.js';
import { TOOL_CHOICES, TOOL_KEYS } from './maps.js';
import { checkKeys, invalid, isObject, optBoolean, requireArray, requireObject, requireString, unsupported } from '../guard.js';

/**
 * Flat function tools -> pivot tools. Built-in tools (web_search, file_search, computer_use, mcp, ...) run on
 * OpenAI's side and cannot be honoured here: 400. `strict` is accepted and not enforced: the API treats a missing
 * `strict` as true, so clients send it by habit; schema adherence is up to the deployed model.
 */
export function convertTools(raw: unknown): ChatTool[] {
  return requireArray(raw, 'tools').map((item, i) => {
    const path = `tools[${i}]`;
    const tool = requireObject(item, path);
    if (tool.type !== 'function') {
      const type = typeof tool.type === 'string' && /^[a-z0-9_.-]{1,64}$/.test(tool.type) ? `'${tool.type}' ` : '';
      unsupported(`${path}.type`, `tools of type ${type}are not supported; only function tools`);
    }
    checkKeys(tool, TOOL_KEYS, path);
    optBoolean(tool.strict, `${path}.strict`);
    const name = requireString(tool.name, `${path}.name`);
    if (name.length === 0) invalid(`${path}.name`, 'must not be empty');
    const fn: ChatTool['function'] = { name };
    if (tool.description !== undefined && tool.description !== null) fn.description = requireString(tool.description, `${path}.description`);
    if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = requireObject(tool.parameters, `${path}.parameters`);
    return { type: 'function', function: fn };
  });
}

export function convertToolChoice(raw: unknown): ChatToolChoice {
  if (typeof raw === 'string') {
    if ((TOOL_CHOICES as readonly string[]).includes(raw)) return raw as (typeof TOOL_CHOICES)[number];
    return invalid('tool_choice', `must be one of ${TOOL_CHOICES.join(', ')} or a function choice`);
  }
  if (isObject(raw) && raw.type === 'function') {
    return { type: 'function', function: { name: requireString(raw.name, 'tool_choice.name') } };
  }
  return unsupported('tool_choice', 'only auto, none, required and {type: "function", name} are supported');
}
