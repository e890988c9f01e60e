import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

/**
 * The same question asked through each official SDK and each of its entry points, and the answer reduced to one
 * comparable shape, so tests can be table-driven over caller protocols.
 */

export type CallerMode = 'chat' | 'chat-stream' | 'responses' | 'responses-stream' | 'anthropic' | 'anthropic-stream';
export const CALLER_MODES: readonly CallerMode[] = ['chat', 'chat-stream', 'responses', 'responses-stream', 'anthropic', 'anthropic-stream'];

export interface Outcome {
  text: string;
  reasoning: string;
  tools: Array<{ name: string; input: unknown; id: string }>;
  /** Normalized stop reason. */
  stop: 'end' | 'tool' | 'length';
  /** The protocol's own stop reason, as the SDK reported it. */
  rawStop: string | null;
  usage: { input: number; output: number } | undefined;
}

export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export const WEATHER_TOOL: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
export const TIME_TOOL: ToolSpec = {
  name: 'get_time',
  description: 'Current time in a time zone',
  parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] },
};

export interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
}

export function makeClients(origin: string, apiKey: string): Clients {
  return {
    openai: new OpenAI({ apiKey, baseURL: `${origin}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey, baseURL: origin, maxRetries: 0 }),
  };
}

export interface Ask {
  model: string;
  prompt: string;
  tools?: ToolSpec[];
  maxTokens?: number;
}

/** Asks through one SDK entry point; rejects as the SDK rejects. */
export async function ask(mode: CallerMode, c: Clients, q: Ask): Promise<Outcome> {
  const maxTokens = q.maxTokens ?? 256;
  switch (mode) {
    case 'chat': {
      const res = await c.openai.chat.completions.create({
        model: q.model,
        messages: [{ role: 'user', content: q.prompt }],
        max_tokens: maxTokens,
        ...(q.tools ? { tools: q.tools.map(chatTool) } : {}),
      });
      return fromChat(res, '');
    }
    case 'chat-stream': {
      const stream = c.openai.chat.completions.stream({
        model: q.model,
        messages: [{ role: 'user', content: q.prompt }],
        max_tokens: maxTokens,
        stream_options: { include_usage: true },
        ...(q.tools ? { tools: q.tools.map(chatTool) } : {}),
      });
      // The helper keeps only the last non-standard delta field; reasoning is gathered from the chunks.
      let reasoning = '';
      stream.on('chunk', (chunk) => {
        const r = (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content;
        if (typeof r === 'string') reasoning += r;
      });
      return fromChat(await stream.finalChatCompletion(), reasoning);
    }
    case 'responses': {
      const res = await c.openai.responses.create({
        model: q.model,
        input: q.prompt,
        max_output_tokens: maxTokens,
        ...(q.tools ? { tools: q.tools.map(responsesTool) } : {}),
      });
      return fromResponse(res);
    }
    case 'responses-stream': {
      const stream = c.openai.responses.stream({
        model: q.model,
        input: q.prompt,
        max_output_tokens: maxTokens,
        ...(q.tools ? { tools: q.tools.map(responsesTool) } : {}),
      });
      return fromResponse(await stream.finalResponse());
    }
    case 'anthropic': {
      const res = await c.anthropic.messages.create({
        model: q.model,
        max_tokens: maxTokens,
        messages: [{ role: 'user', content: q.prompt }],
        ...(q.tools ? { tools: q.tools.map(anthropicTool) } : {}),
      });
      return fromMessage(res);
    }
    case 'anthropic-stream': {
      const stream = c.anthropic.messages.stream({
        model: q.model,
        max_tokens: maxTokens,
        messages: [{ role: 'user', content: q.prompt }],
        ...(q.tools ? { tools: q.tools.map(anthropicTool) } : {}),
      });
      return fromMessage(await stream.finalMessage());
    }
  }
}

export const chatTool = (t: ToolSpec): OpenAI.Chat.ChatCompletionFunctionTool => ({
  type: 'function',
  function: { name: t.name, description: t.description, parameters: t.parameters },
});
export const responsesTool = (t: ToolSpec): OpenAI.Responses.FunctionTool => ({
  type: 'function',
  name: t.name,
  description: t.description,
  parameters: t.parameters,
  strict: false,
});
export const anthropicTool = (t: ToolSpec): Anthropic.Tool => ({
  name: t.name,
  description: t.description,
  input_schema: t.parameters as Anthropic.Tool.InputSchema,
});

const CHAT_STOP: Record<string, Outcome['stop']> = { stop: 'end', tool_calls: 'tool', length: 'length' };
const ANTHROPIC_STOP: Record<string, Outcome['stop']> = { end_turn: 'end', tool_use: 'tool', max_tokens: 'length', stop_sequence: 'end' };

export function fromChat(res: OpenAI.Chat.ChatCompletion, streamedReasoning: string): Outcome {
  const choice = res.choices[0];
  if (!choice) throw new Error('no choice in the completion');
  const m = choice.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
  return {
    text: m.content ?? '',
    reasoning: streamedReasoning || m.reasoning_content || '',
    tools: (m.tool_calls ?? []).map((tc) => {
      if (tc.type !== 'function') throw new Error(`unexpected tool call type ${tc.type}`);
      return { name: tc.function.name, input: JSON.parse(tc.function.arguments) as unknown, id: tc.id };
    }),
    stop: CHAT_STOP[choice.finish_reason] ?? (`?${choice.finish_reason}` as Outcome['stop']),
    rawStop: choice.finish_reason,
    usage: res.usage ? { input: res.usage.prompt_tokens, output: res.usage.completion_tokens } : undefined,
  };
}

export function fromResponse(res: OpenAI.Responses.Response): Outcome {
  const tools: Outcome['tools'] = [];
  let reasoning = '';
  for (const item of res.output) {
    if (item.type === 'function_call') tools.push({ name: item.name, input: JSON.parse(item.arguments) as unknown, id: item.call_id });
    if (item.type === 'reasoning') for (const part of item.content ?? []) reasoning += part.text;
  }
  if (res.status === 'failed') throw Object.assign(new Error(`response failed: ${res.error?.message}`), { response: res });
  const incomplete = res.status === 'incomplete';
  return {
    text: res.output_text,
    reasoning,
    tools,
    stop: incomplete ? 'length' : tools.length > 0 ? 'tool' : 'end',
    rawStop: incomplete ? `incomplete:${res.incomplete_details?.reason}` : res.status ?? null,
    usage: res.usage ? { input: res.usage.input_tokens, output: res.usage.output_tokens } : undefined,
  };
}

export function fromMessage(res: Anthropic.Message): Outcome {
  let text = '';
  let reasoning = '';
  const tools: Outcome['tools'] = [];
  for (const b of res.content) {
    if (b.type === 'text') text += b.text;
    if (b.type === 'thinking') reasoning += b.thinking;
    if (b.type === 'tool_use') tools.push({ name: b.name, input: b.input, id: b.id });
  }
  return {
    text,
    reasoning,
    tools,
    stop: ANTHROPIC_STOP[res.stop_reason ?? ''] ?? (`?${res.stop_reason}` as Outcome['stop']),
    rawStop: res.stop_reason,
    usage: { input: res.usage.input_tokens, output: res.usage.output_tokens },
  };
}

/** A 1x1 PNG, base64, for image round trips. */
export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
