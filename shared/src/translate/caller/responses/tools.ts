import type { ChatTool, ChatToolChoice, NamespacedName } from '../../pivot.js';
import { NAMESPACE_KEYS, NAMESPACE_SEPARATOR, REFUSED_TOOL_TYPES, TOOL_ADVISORY_KEYS, TOOL_CHOICES, TOOL_KEYS } from './maps.js';
import type { Ignored } from '../ignored.js';
import { acceptAdvisory, acceptKeys, invalid, isObject, requireArray, requireObject, requireString, unsupported, type Obj } from '../guard.js';

export interface ConvertedTools {
  functions: ChatTool[];
  /** Flattened name -> the namespace function it stands for. */
  namespaced: Map<string, NamespacedName>;
}

/** The name the model sees for a function inside a namespace tool. */
export function flatName(namespace: string, name: string): string {
  return `${namespace}${NAMESPACE_SEPARATOR}${name}`;
}

/**
 * `tools` -> pivot function tools.
 *
 * - function tools are honoured (deferred ones too: every tool is sent);
 * - a `namespace` tool's functions become functions named `<namespace>__<name>`; the map back goes with the request
 *   so answers carry the caller's name and namespace again;
 * - `custom` (free-form) tools are refused: the answer could not carry such a call;
 * - any other type is a hosted tool (web_search, file_search, code_interpreter, computer use, image generation, mcp,
 *   local shell, ...) that runs on OpenAI's side: dropped and reported.
 */
export function convertTools(raw: unknown, ignored: Ignored): ConvertedTools {
  const out: ConvertedTools = { functions: [], namespaced: new Map() };
  const taken = new Set<string>();
  const add = (tool: ChatTool, path: string): void => {
    if (taken.has(tool.function.name)) invalid(`${path}.name`, 'two tools have the same name');
    taken.add(tool.function.name);
    out.functions.push(tool);
  };
  requireArray(raw, 'tools').forEach((item, i) => {
    const path = `tools[${i}]`;
    const tool = requireObject(item, path);
    const type = requireString(tool.type, `${path}.type`);
    if (type === 'function') return add(functionTool(tool, path, ignored), path);
    if (type === 'namespace') {
      acceptKeys(tool, NAMESPACE_KEYS, path, ignored);
      const namespace = requireString(tool.name, `${path}.name`);
      if (namespace.length === 0) invalid(`${path}.name`, 'must not be empty');
      requireArray(tool.tools, `${path}.tools`).forEach((inner, j) => {
        const at = `${path}.tools[${j}]`;
        const fn = requireObject(inner, at);
        if (fn.type !== 'function') return unsupported(`${at}.type`, 'only function tools are supported inside a namespace');
        const converted = functionTool(fn, at, ignored);
        const name = converted.function.name;
        converted.function.name = flatName(namespace, name);
        add(converted, at);
        out.namespaced.set(converted.function.name, { namespace, name });
      });
      return;
    }
    if ((REFUSED_TOOL_TYPES as readonly string[]).includes(type)) {
      return unsupported(`${path}.type`, `tools of type '${type}' are not supported; use function tools`);
    }
    ignored.dropped('tools', type);
  });
  return out;
}

function functionTool(tool: Obj, path: string, ignored: Ignored): ChatTool {
  acceptKeys(tool, [...TOOL_KEYS, ...Object.keys(TOOL_ADVISORY_KEYS)], path, ignored);
  acceptAdvisory(tool, TOOL_ADVISORY_KEYS, path, ignored);
  const name = requireString(tool.name, `${path}.name`);
  if (name.length === 0) invalid(`${path}.name`, 'must not be empty');
  const fn: ChatTool['function'] = { name };
  if (tool.description !== undefined && tool.description !== null) fn.description = requireString(tool.description, `${path}.description`);
  if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = requireObject(tool.parameters, `${path}.parameters`);
  return { type: 'function', function: fn };
}

export function convertToolChoice(raw: unknown): ChatToolChoice {
  if (typeof raw === 'string') {
    if ((TOOL_CHOICES as readonly string[]).includes(raw)) return raw as (typeof TOOL_CHOICES)[number];
    return invalid('tool_choice', `must be one of ${TOOL_CHOICES.join(', ')} or a function choice`);
  }
  if (isObject(raw) && raw.type === 'function') {
    const name = requireString(raw.name, 'tool_choice.name');
    const namespace = raw.namespace === undefined || raw.namespace === null ? undefined : requireString(raw.namespace, 'tool_choice.namespace');
    return { type: 'function', function: { name: namespace === undefined ? name : flatName(namespace, name) } };
  }
  return unsupported('tool_choice', 'only auto, none, required and {type: "function", name} are supported');
}
