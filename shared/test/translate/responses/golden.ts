/** Expected shapes for the Responses golden vectors, spelled out independently of the implementation. */

export const ctx = { model: 'my-qwen', requestId: 'req1' };
export const CREATED = 1700000000;

export function response(status: string, output: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id: 'resp_req1',
    object: 'response',
    created_at: CREATED,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    metadata: {},
    model: 'my-qwen',
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    usage: null,
    ...extra,
  };
}

export function usage(input: number, output: number) {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

export const text = (s: string) => ({ type: 'output_text', annotations: [], logprobs: [], text: s });
export const rtext = (s: string) => ({ type: 'reasoning_text', text: s });
export const message = (id: string, status: string, content: unknown[]) => ({ id, type: 'message', status, role: 'assistant', content });
export const reasoning = (id: string, status: string, content: unknown[]) => ({ id, type: 'reasoning', status, summary: [], content });
export const call = (id: string, status: string, call_id: string, name: string, args: string) => ({
  id,
  type: 'function_call',
  status,
  arguments: args,
  call_id,
  name,
});

/** Event payloads without sequence_number; the test adds and checks it. */
export type Ev = Record<string, unknown> & { type: string };

export const head = (): Ev[] => [
  { type: 'response.created', response: response('in_progress', []) },
  { type: 'response.in_progress', response: response('in_progress', []) },
];

export function messageEvents(index: number, deltas: string[], status = 'completed'): Ev[] {
  const id = `msg_req1_${index}`;
  const at = { item_id: id, output_index: index, content_index: 0 };
  const full = deltas.join('');
  return [
    { type: 'response.output_item.added', output_index: index, item: message(id, 'in_progress', []) },
    { type: 'response.content_part.added', ...at, part: text('') },
    ...deltas.map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
    { type: 'response.output_text.done', ...at, text: full, logprobs: [] },
    { type: 'response.content_part.done', ...at, part: text(full) },
    { type: 'response.output_item.done', output_index: index, item: message(id, status, [text(full)]) },
  ];
}

export function reasoningEvents(index: number, deltas: string[], status = 'completed'): Ev[] {
  const id = `rs_req1_${index}`;
  const at = { item_id: id, output_index: index, content_index: 0 };
  const full = deltas.join('');
  return [
    { type: 'response.output_item.added', output_index: index, item: reasoning(id, 'in_progress', []) },
    { type: 'response.content_part.added', ...at, part: rtext('') },
    ...deltas.map((delta) => ({ type: 'response.reasoning_text.delta', ...at, delta })),
    { type: 'response.reasoning_text.done', ...at, text: full },
    { type: 'response.content_part.done', ...at, part: rtext(full) },
    { type: 'response.output_item.done', output_index: index, item: reasoning(id, status, [rtext(full)]) },
  ];
}

export function callEvents(index: number, callId: string, name: string, deltas: string[], status = 'completed'): Ev[] {
  const id = `fc_req1_${index}`;
  const at = { item_id: id, output_index: index };
  const full = deltas.length > 0 ? deltas.join('') : '{}';
  return [
    { type: 'response.output_item.added', output_index: index, item: call(id, 'in_progress', callId, name, '') },
    ...deltas.map((delta) => ({ type: 'response.function_call_arguments.delta', ...at, delta })),
    { type: 'response.function_call_arguments.done', ...at, name, arguments: full },
    { type: 'response.output_item.done', output_index: index, item: call(id, status, callId, name, full) },
  ];
}
