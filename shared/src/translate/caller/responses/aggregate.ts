import type { Aggregator, CallerContext } from '../../adapter.js';
import { AnswerCollector } from '../answer.js';
import { TERMINAL } from './maps.js';
import { callId, callerToolName, envelope, finalArgs, functionCallItem, itemId, messageItem, outputText, reasoningItem, reasoningText, type ItemStatus } from './shape.js';

/**
 * Pivot events -> the Response object (non-streamed). Items follow the answer's order: consecutive text joins one
 * message item, reasoning its own reasoning item, each tool call one function_call item with its raw argument text
 * (the API returns arguments as a string, so invalid JSON is passed through for the client to handle).
 * An upstream error makes `result()` throw a TokiosError, to be rendered as an error body.
 */
export function createResponsesAggregator(ctx: CallerContext): Aggregator {
  const answer = new AnswerCollector();
  return {
    push: (event) => answer.push(event),
    result() {
      if (answer.failure) throw answer.failure;
      const terminal = TERMINAL[answer.finish ?? (answer.toolCount > 0 ? 'tool_calls' : 'stop')];
      const last = answer.parts.length - 1;
      const output = answer.parts.map((part, i) => {
        const status: ItemStatus = i === last && terminal.status === 'incomplete' ? 'incomplete' : 'completed';
        switch (part.kind) {
          case 'tool':
            return functionCallItem(itemId(ctx, 'function_call', i), status, {
              callId: callId(ctx, part.id, part.index),
              tool: callerToolName(ctx, part.name),
              args: finalArgs(part.args),
            });
          case 'text':
            return messageItem(itemId(ctx, 'message', i), status, [outputText(part.text)]);
          case 'reasoning':
            return reasoningItem(itemId(ctx, 'reasoning', i), status, [reasoningText(part.text)]);
        }
      });
      return envelope(ctx, {
        createdAt: answer.created ?? Math.floor(Date.now() / 1000),
        status: terminal.status,
        output,
        usage: answer.usage ?? { input_tokens: 0, output_tokens: 0 },
        incomplete_details: terminal.incomplete_details,
      });
    },
  };
}
