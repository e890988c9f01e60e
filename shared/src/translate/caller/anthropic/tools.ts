import type { ChatTool, ChatToolChoice } from '../../pivot.js';
import { TOOL_CHOICE, TOOL_KEYS } from './maps.js';
import { checkKeys, invalid, optBoolean, requireArray, requireObject, requireString, unsupported } from '../guard.js';

/** `tools` -> function tools. Only custom tools (no server tools); `strict: true` cannot be guaranteed, so it is a 400. */
export function convertTools(raw: unknown): ChatTool[] {
  return requireArray(raw, 'tools').map((item, i) => {
    const path = `tools[${i}]`;
    const tool = requireObject(item, path);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      unsupported(`${path}.type`, 'only custom tools are supported (no server tools)');
    }
    checkKeys(tool, TOOL_KEYS, path);
    if (optBoolean(tool.strict, `${path}.strict`) === true) unsupported(`${path}.strict`, 'strict tool schemas cannot be guaranteed');
    const name = requireString(tool.name, `${path}.name`);
    if (name.length === 0) invalid(`${path}.name`, 'must not be empty');
    const parameters = requireObject(tool.input_schema, `${path}.input_schema`);
    const description = tool.description === undefined ? undefined : requireString(tool.description, `${path}.description`);
    return { type: 'function', function: { name, ...(description !== undefined && { description }), parameters } };
  });
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
