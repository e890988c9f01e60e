import type { CallerContext } from '../../adapter.js';
import { isErrorCode } from '../../../errors/registry.js';
import { FAILED_CODE } from './maps.js';
import { NEUTRAL_ECHO } from './echo.js';

/** Response and output item shapes shared by the stream encoder and the aggregator. */

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';
export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export type ItemKind = 'message' | 'reasoning' | 'function_call';
const ITEM_PREFIX = { message: 'msg', reasoning: 'rs', function_call: 'fc' } as const satisfies Record<ItemKind, string>;

export function itemId(ctx: CallerContext, kind: ItemKind, outputIndex: number): string {
  return `${ITEM_PREFIX[kind]}_${ctx.requestId}_${outputIndex}`;
}

/** The upstream's tool call id, or a stable one when it gave none. */
export function callId(ctx: CallerContext, id: string, index: number): string {
  return id.length > 0 ? id : `call_${ctx.requestId}_${index}`;
}

export function outputText(text: string) {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

export function reasoningText(text: string) {
  return { type: 'reasoning_text', text };
}

export function messageItem(id: string, status: ItemStatus, content: object[]) {
  return { id, type: 'message', status, role: 'assistant', content };
}

export function reasoningItem(id: string, status: ItemStatus, content: object[]) {
  return { id, type: 'reasoning', status, summary: [], content };
}

/** A tool name as the caller declared it: a flattened namespace function goes back to its name and namespace. */
export interface CallerToolName {
  name: string;
  namespace?: string;
}

export function callerToolName(ctx: CallerContext, name: string): CallerToolName {
  const namespaced = ctx.toolNames?.get(name);
  return namespaced === undefined ? { name } : { name: namespaced.name, namespace: namespaced.namespace };
}

export function functionCallItem(id: string, status: ItemStatus, call: { callId: string; tool: CallerToolName; args: string }) {
  const item = { id, type: 'function_call', status, arguments: call.args, call_id: call.callId, name: call.tool.name };
  return call.tool.namespace === undefined ? item : { ...item, namespace: call.tool.namespace };
}

/** The final argument text: a call that streamed no arguments takes none, which clients must be able to parse. */
export function finalArgs(args: string): string {
  return args.length > 0 ? args : '{}';
}

export function usageOf(usage: Usage) {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

export function failedError(code: string, message: string) {
  const mapped = isErrorCode(code) && Object.hasOwn(FAILED_CODE, code) ? FAILED_CODE[code as keyof typeof FAILED_CODE] : 'server_error';
  return { code: mapped, message };
}

export interface EnvelopeState {
  createdAt: number;
  status: ResponseStatus;
  output: object[];
  usage?: Usage | null;
  error?: { code: string; message: string } | null;
  incomplete_details?: { reason: string } | null;
}

/** The Response object; the request's values (instructions, tools, sampling…) as the caller sent them (see echo.ts). */
export function envelope(ctx: CallerContext, state: EnvelopeState) {
  const echo = ctx.echo ?? NEUTRAL_ECHO;
  return {
    id: `resp_${ctx.requestId}`,
    object: 'response',
    created_at: state.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details ?? null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    metadata: echo.metadata,
    model: ctx.model,
    output: state.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: null,
    store: false,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    truncation: 'disabled',
    ...echo.optional,
    usage: state.usage ? usageOf(state.usage) : null,
  };
}
