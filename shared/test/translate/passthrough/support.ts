import type { Test } from 'tap';
import type { Usage } from '../../../src/protocol/meta.js';
import type { AnswerTranslator } from '../../../src/translate/index.js';
import { chunkings } from '../../codec/feed.js';

/** Pipes chunks through an answer translator as the connector does; the caller's bytes as text. */
export function pipe(answer: AnswerTranslator, chunks: Uint8Array[]): string {
  let out = '';
  for (const c of chunks) out += answer.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength)).toString();
  return out + answer.end().toString();
}

/** Every chunking of `input` gives `expected` bytes and `usage`; the first mismatch is reported in full. */
export function golden(t: Test, make: () => AnswerTranslator, input: string, expected: string, usage?: Usage): void {
  let bad = 0;
  for (const { name, chunks } of chunkings(input)) {
    const answer = make();
    const got = pipe(answer, chunks);
    if (got !== expected && bad++ === 0) t.equal(got, expected, name);
    else if (JSON.stringify(answer.usage()) !== JSON.stringify(usage) && bad++ === 0) t.same(answer.usage(), usage, `usage, ${name}`);
  }
  t.equal(bad, 0, 'same bytes and usage for every chunking');
}

const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'Qwen/Qwen2.5', system_fingerprint: null };

/** One chat.completion.chunk SSE event as vLLM writes it; `extra` members go last (e.g. `usage: null`). */
export function chunk(delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;
}

/** The usage-only last chunk of a stream asked for usage. */
export function usageChunk(prompt: number, completion: number): string {
  return `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })}\n\n`;
}

export const DONE = 'data: [DONE]\n\n';
