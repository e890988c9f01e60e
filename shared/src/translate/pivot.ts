/**
 * The pivot every translation goes through.
 *
 *   caller request  --(caller/<name>/request.ts)-->  ChatRequest  --(upstream/<kind>/request.ts)-->  upstream body
 *   upstream bytes  --(upstream/<kind>/stream.ts)--> ChatEvent*   --(caller/<name>/stream.ts | aggregate.ts)--> caller bytes
 *
 * ChatRequest is the OpenAI Chat Completions request (the subset Tokios supports). ChatEvent is a normalized
 * stream: upstream quirks (empty tool_calls arrays, usage on every chunk, whole tool arguments at the end,
 * tool calls and done in separate lines, ...) are resolved by the upstream decoders, so caller encoders never
 * see them.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  /** data: URL (base64) or http(s) URL */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function';
  /** arguments: a JSON text */
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; reasoning_content?: string }
  /** Content parts only when the result carries images (screenshots, a picture the tool read); else its text. */
  | { role: 'tool'; tool_call_id: string; content: string | ContentPart[] };

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/**
 * Structured output (OpenAI Chat's `response_format`): any JSON object, or JSON that follows a JSON Schema. Plain
 * text is the absence of this field.
 */
export type ResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  temperature?: number;
  top_p?: number;
  /** Upper bound on generated tokens (max_tokens / max_completion_tokens / max_output_tokens). */
  max_tokens?: number;
  stop?: string[];
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  user?: string;
  seed?: number;
  /** Anthropic top_k; only sent to upstreams that take it. */
  top_k?: number;
  response_format?: ResponseFormat;
  /** OpenAI Chat callers only: whether the caller asked for a final usage chunk. Never sent upstream as is. */
  stream_options?: { include_usage?: boolean };
  /** Responses callers only: flattened tool name -> the caller's namespace and name (answers map back). Never sent upstream. */
  namespaced?: ReadonlyMap<string, NamespacedName>;
}

/** A function inside a Responses `namespace` tool; the model sees it as one function with a flattened name. */
export interface NamespacedName {
  namespace: string;
  name: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export type ChatEvent =
  /**
   * Exactly once, first. `input_tokens`: the prompt's token count when the model server reports it with its first
   * chunk (vLLM and SGLang with usage on every chunk), so that callers whose first event carries it get the real one.
   */
  | { type: 'start'; id: string; model: string; created: number; input_tokens?: number }
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** A new tool call; `index` counts 0,1,2... within the answer. */
  | { type: 'tool_call'; index: number; id: string; name: string }
  /** A piece of a tool call's JSON arguments (may be the whole text at once). */
  | { type: 'tool_args'; index: number; delta: string }
  /**
   * Generation ended; already corrected to tool_calls when any tool call was emitted. `stop_sequence`: with reason
   * `stop`, the stop string the model server says ended the answer (vLLM `stop_reason`, SGLang `matched_stop`);
   * absent when it ended otherwise or the server does not say (Ollama, llama.cpp, LM Studio).
   */
  | { type: 'finish'; reason: FinishReason; stop_sequence?: string }
  /** Cumulative totals; the last one wins. */
  | { type: 'usage'; input_tokens: number; output_tokens: number }
  /** The upstream failed after it started answering. */
  | { type: 'error'; code: string; message: string };
