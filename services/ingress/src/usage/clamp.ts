import type { Usage } from '@tokios/shared/protocol';

/**
 * Tokens a request may be charged beyond the bytes the gateway saw it carry: generous bounds, not estimates. Input:
 * the chat template around the messages. Output: reasoning the model did not show, control tokens.
 */
export const UNSEEN_INPUT_TOKENS = 4_096;
export const UNSEEN_OUTPUT_TOKENS = 32_768;

/**
 * The usage a connector reported, bounded by what the request could have cost: a token is at least a byte of
 * text, so input tokens are at most the request's bytes and output tokens the answer's bytes, plus those allowances.
 * Usage comes from the connector (hardware the deployment's owner controls) and is charged to the caller's key,
 * possibly another tenant's: it is never taken as is.
 */
export function clampUsage(usage: Usage, seen: { requestBytes: number; answerBytes: number }): { usage: Usage; clamped: boolean } {
  const input = Math.min(usage.input_tokens, seen.requestBytes + UNSEEN_INPUT_TOKENS);
  const output = Math.min(usage.output_tokens, seen.answerBytes + UNSEEN_OUTPUT_TOKENS);
  const clamped = input !== usage.input_tokens || output !== usage.output_tokens;
  return { usage: clamped ? { input_tokens: input, output_tokens: output } : usage, clamped };
}
