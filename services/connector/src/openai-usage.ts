import type { Usage } from '@tokios/shared/protocol';

/** OpenAI chat `usage` → the frame's usage; undefined unless both counts are there. */
export function fromOpenAIUsage(u: unknown): Usage | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const { prompt_tokens: input, completion_tokens: output } = u as { prompt_tokens?: unknown; completion_tokens?: unknown };
  if (!isCount(input) || !isCount(output)) return undefined;
  return { input_tokens: input, output_tokens: output };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** Parses a JSON object, or undefined. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
