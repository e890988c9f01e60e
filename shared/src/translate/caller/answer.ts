import { TokiosError, isErrorCode } from '../../errors/registry.js';
import type { Usage } from '../../protocol/meta.js';
import type { ChatEvent, FinishReason } from '../pivot.js';

export type ToolPart = { kind: 'tool'; index: number; id: string; name: string; args: string };
/** One piece of a whole answer, in answer order; consecutive text (or reasoning) is joined into one part. */
export type AnswerPart = { kind: 'text' | 'reasoning'; text: string } | ToolPart;

/**
 * Folds the pivot events of one answer into ordered parts, finish, usage and failure. Every caller's aggregator
 * renders this in its own shape, so the folding rules live once.
 */
export class AnswerCollector {
  readonly parts: AnswerPart[] = [];
  created: number | undefined;
  finish: FinishReason | undefined;
  /** The stop string the model server says ended the answer (see the pivot's finish event). */
  stopSequence: string | undefined;
  usage: Usage | undefined;
  /** First upstream error, or tool arguments that arrived for no tool call. */
  failure: TokiosError | undefined;
  private readonly tools = new Map<number, ToolPart>();

  get toolCount(): number {
    return this.tools.size;
  }

  push(event: ChatEvent): void {
    switch (event.type) {
      case 'start':
        this.created ??= event.created;
        return;
      case 'text':
      case 'reasoning':
        return this.append(event.type, event.text);
      case 'tool_call': {
        const part: ToolPart = { kind: 'tool', index: event.index, id: event.id, name: event.name, args: '' };
        this.tools.set(event.index, part);
        this.parts.push(part);
        return;
      }
      case 'tool_args': {
        const part = this.tools.get(event.index);
        if (part) part.args += event.delta;
        else this.failure ??= new TokiosError('protocol_error', 'Tool call arguments arrived before their tool call.');
        return;
      }
      case 'finish':
        if (this.finish !== undefined) return;
        this.finish = event.reason;
        this.stopSequence = event.stop_sequence;
        return;
      case 'usage':
        this.usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
        return;
      case 'error':
        this.failure ??= new TokiosError(isErrorCode(event.code) ? event.code : 'upstream_error', event.message);
        return;
    }
  }

  private append(kind: 'text' | 'reasoning', text: string): void {
    if (text.length === 0) return;
    const last = this.parts.at(-1);
    if (last?.kind === kind) last.text += text;
    else this.parts.push({ kind, text });
  }
}
