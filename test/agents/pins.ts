import type { Bundle } from './cache.js';

/**
 * The client versions the project tests against, exact. A new version is a new pin (and new fixtures from
 * `test/fixtures/clients/capture`), never a range: what a client sends changes between patch releases.
 */
export const AGENTS = {
  'claude-code': { id: '@anthropic-ai/claude-code@2.1.332', packages: ['@anthropic-ai/claude-code@2.1.332'] },
  codex: { id: '@openai/codex@0.171.0', packages: ['@openai/codex@0.171.0'] },
  opencode: { id: 'opencode-ai@1.18.33', packages: ['opencode-ai@1.18.33'] },
  'qwen-code': { id: '@qwen-code/qwen-code@0.24.4', packages: ['@qwen-code/qwen-code@0.24.4'] },
} as const satisfies Record<string, Bundle>;

export type AgentName = keyof typeof AGENTS;

/** SDKs whose requests the fixture corpus records (their peers pinned with them). */
export const SDKS = {
  'ai-sdk': {
    id: 'ai@7.0.173',
    packages: ['ai@7.0.173', '@ai-sdk/openai@4.0.118', '@ai-sdk/anthropic@4.0.105', '@ai-sdk/openai-compatible@3.0.92', 'zod@4.6.7'],
  },
  langchain: {
    id: '@langchain/core@1.4.0',
    packages: ['@langchain/core@1.4.0', '@langchain/openai@1.6.0', '@langchain/anthropic@1.5.11'],
  },
} as const satisfies Record<string, Bundle>;

export type SdkName = keyof typeof SDKS;
