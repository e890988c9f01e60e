import type { ChatProtocol } from '../protocol/meta.js';
import type { CallerAdapter } from './adapter.js';
import { openaiChatCaller } from './caller/openai-chat/index.js';
import { anthropicCaller } from './caller/anthropic/index.js';
import { responsesCaller } from './caller/responses/index.js';

/** Every conversation protocol the gateway serves, by name (completions and embeddings have their own planners). */
export const CALLERS: Record<ChatProtocol, CallerAdapter> = {
  'openai.chat': openaiChatCaller,
  'anthropic.messages': anthropicCaller,
  'openai.responses': responsesCaller,
};
