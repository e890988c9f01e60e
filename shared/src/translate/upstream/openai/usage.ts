import type { Usage } from '../../../protocol/meta.js';
import { count, isRecord } from '../../util.js';

/**
 * An OpenAI `usage` object -> token counts: the one rule for OpenAI-compatible servers, translated or passed through.
 * A count that is missing or not a non-negative integer is 0 when the other one is there; neither there: no usage.
 */
export function openaiUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const input = count(value['prompt_tokens']);
  const output = count(value['completion_tokens']);
  if (input === undefined && output === undefined) return undefined;
  return { input_tokens: input ?? 0, output_tokens: output ?? 0 };
}
