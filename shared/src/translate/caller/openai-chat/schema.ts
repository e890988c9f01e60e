import { z } from 'zod';

/** Size limits at the boundary (the ingress also caps the whole body). */
export const LIMITS = {
  text: 8 * 1024 * 1024,
  imageUrl: 20 * 1024 * 1024,
  messages: 10_000,
  parts: 1_000,
  tools: 256,
  toolCalls: 256,
  stop: 4,
  stopLength: 1_024,
  user: 1_024,
  model: 256,
  id: 256,
  description: 64 * 1024,
} as const;

const text = z.string().max(LIMITS.text);
const toolName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_.-]');

export const textPartSchema = z.object({ type: z.literal('text'), text });
const imagePartSchema = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1).max(LIMITS.imageUrl), detail: z.enum(['auto', 'low', 'high']).nullish() }),
});
/** Declared so they are recognised and then rejected as unsupported (not reported as malformed). */
const audioPartSchema = z.object({ type: z.literal('input_audio') }).loose();
const filePartSchema = z.object({ type: z.literal('file') }).loose();
const refusalPartSchema = z.object({ type: z.literal('refusal'), refusal: text });

const userPart = z.discriminatedUnion('type', [textPartSchema, imagePartSchema, audioPartSchema, filePartSchema]);
const textOnlyContent = z.union([text, z.array(textPartSchema).max(LIMITS.parts)]);

export const toolCallSchema = z.object({
  id: z.string().min(1).max(LIMITS.id),
  type: z.literal('function'),
  function: z.object({ name: toolName, arguments: text }),
});

const systemMessage = z.object({ role: z.literal('system'), content: textOnlyContent, name: z.string().nullish() });
const developerMessage = z.object({ role: z.literal('developer'), content: textOnlyContent, name: z.string().nullish() });
const userMessage = z.object({
  role: z.literal('user'),
  content: z.union([text, z.array(userPart).min(1).max(LIMITS.parts)]),
  name: z.string().nullish(),
});
const assistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.union([text, z.array(z.discriminatedUnion('type', [textPartSchema, refusalPartSchema])).max(LIMITS.parts)]).nullish(),
  refusal: text.nullish(),
  tool_calls: z.array(toolCallSchema).max(LIMITS.toolCalls).nullish(),
  /** Extension used by DeepSeek / vLLM / llama.cpp to carry reasoning in history. */
  reasoning_content: text.nullish(),
  name: z.string().nullish(),
  audio: z.unknown().optional(),
  function_call: z.unknown().optional(),
});
const toolMessage = z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1).max(LIMITS.id), content: textOnlyContent });
const functionMessage = z.object({ role: z.literal('function') }).loose();

export const messageSchema = z.discriminatedUnion('role', [systemMessage, developerMessage, userMessage, assistantMessage, toolMessage, functionMessage]);
export type ParsedMessage = z.infer<typeof messageSchema>;

export const toolSchema = z.object({
  type: z.string().max(64),
  function: z
    .object({
      name: toolName,
      description: z.string().max(LIMITS.description).nullish(),
      parameters: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    })
    .optional(),
});

export const toolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: toolName }) }),
  // Recognised so they can be rejected as unsupported.
  z.object({ type: z.enum(['allowed_tools', 'custom']) }).loose(),
]);

/** A JSON Schema's name, as OpenAI allows it. */
export const SCHEMA_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(SCHEMA_NAME, 'must be 1-64 of [A-Za-z0-9_-]'),
      description: z.string().max(LIMITS.description).nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** The fields Tokios reads. Unknown top-level fields are handled before this schema (see request.ts). */
export const chatBodySchema = z.object({
  model: z.string().min(1).max(LIMITS.model),
  messages: z.array(messageSchema).min(1).max(LIMITS.messages),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  /** Extension (vLLM, llama.cpp, Ollama take it). */
  top_k: z.number().int().min(1).max(100_000).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string().min(1).max(LIMITS.stopLength), z.array(z.string().min(1).max(LIMITS.stopLength)).max(LIMITS.stop)]).nullish(),
  tools: z.array(toolSchema).max(LIMITS.tools).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  user: z.string().max(LIMITS.user).nullish(),
  response_format: responseFormatSchema.nullish(),
  seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullish(),
});
export type ChatBody = z.infer<typeof chatBodySchema>;
