import type { UpstreamKind } from '../../protocol/meta.js';
import type { UpstreamAdapter } from '../adapter.js';
import { ollamaUpstream } from './ollama/index.js';
import { openaiUpstream } from './openai/index.js';

export { ollamaUpstream, openaiUpstream };
export { mapUpstreamHttpError } from './http-error.js';

/** One adapter per upstream kind. */
export const UPSTREAMS = {
  openai: openaiUpstream,
  ollama: ollamaUpstream,
} as const satisfies Record<UpstreamKind, UpstreamAdapter>;
