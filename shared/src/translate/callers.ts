import type { CallerProtocol } from '../protocol/meta.js';
import type { CallerAdapter } from './adapter.js';
import { openaiChatCaller } from './caller/openai-chat/index.js';
import { anthropicCaller } from './caller/anthropic/index.js';
import { responsesCaller } from './caller/responses/index.js';

/** Every caller protocol the gateway serves, by name. */
export const CALLERS: Record<CallerProtocol, CallerAdapter> = {
  'openai.chat': openaiChatCaller,
  'anthropic.messages': anthropicCaller,
  'openai.responses': responsesCaller,
};
