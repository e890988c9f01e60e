import type { ChatTool, ChatToolChoice } from '../../pivot.js';
import { TOOL_ADVISORY_KEYS, TOOL_CHOICE, TOOL_KEYS } from './maps.js';
import type { Ignored } from '../ignored.js';
import { acceptAdvisory, acceptKeys, invalid, optBoolean, requireArray, requireObject, requireString } from '../guard.js';

/**
 * `tools` -> function tools. Custom tools (no `type`, or `custom`) are honoured, deferred ones (`defer_loading`)
 * included: every tool is sent, so a deferred tool is an ordinary one. Any other type is one of Anthropic's server
 * or Anthropic-defined tools (web search, code execution, computer use, ...) that a private model has no runner or
 * training for: dropped and reported.
 */
export function convertTools(raw: unknown, ignored: Ignored): ChatTool[] {
  const out: ChatTool[] = [];
  requireArray(raw, 'tools').forEach((item, i) => {
    const path = `tools[${i}]`;
    const tool = requireObject(item, path);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      ignored.dropped('tools', requireString(tool.type, `${path}.type`));
      return;
    }
    acceptKeys(tool, [...TOOL_KEYS, ...Object.keys(TOOL_ADVISORY_KEYS)], path, ignored);
    acceptAdvisory(tool, TOOL_ADVISORY_KEYS, path, ignored);
    const name = requireString(tool.name, `${path}.name`);
    if (name.length === 0) invalid(`${path}.name`, 'must not be empty');
    const parameters = requireObject(tool.input_schema, `${path}.input_schema`);
    const description = tool.description === undefined || tool.description === null ? undefined : requireString(tool.description, `${path}.description`);
    out.push({ type: 'function', function: { name, ...(description !== undefined && { description }), parameters } });
  });
  return out;
}

export interface ToolChoiceResult {
  tool_choice: ChatToolChoice;
  parallel_tool_calls?: false;
}

export function convertToolChoice(raw: unknown): ToolChoiceResult {
  const choice = requireObject(raw, 'tool_choice');
  const noParallel = optBoolean(choice.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use') === true;
  const parallel = noParallel ? { parallel_tool_calls: false as const } : {};
  if (choice.type === 'tool') {
    const name = requireString(choice.name, 'tool_choice.name');
    return { tool_choice: { type: 'function', function: { name } }, ...parallel };
  }
  if (typeof choice.type === 'string' && Object.hasOwn(TOOL_CHOICE, choice.type)) {
    return { tool_choice: TOOL_CHOICE[choice.type as keyof typeof TOOL_CHOICE], ...parallel };
  }
  return invalid('tool_choice.type', 'must be one of auto, any, tool, none');
}
