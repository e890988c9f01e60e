import { TokiosError } from '../../errors/registry.js';
import { openaiErrorBody } from '../../errors/render.js';
import type { Usage } from '../../protocol/meta.js';
import { EMPTY, JSON_CONTENT_TYPE, type AnswerTranslator } from '../answer/translator.js';
import { openaiUsage } from '../upstream/openai/usage.js';
import { isRecord, parseJson } from '../util.js';
import { scanAnswer } from './answer-scan.js';

/** A whole answer larger than this is refused (bounded memory); a stream has no such limit. */
export const MAX_WHOLE_ANSWER = 64 * 1024 * 1024;

/**
 * A non-streamed OpenAI Chat passthrough answer (`chat.completion` JSON): held until it is complete, then given to
 * the caller byte for byte, its `usage` read on the way (answer-scan.ts: without parsing the whole answer when
 * nothing else needs it); only a choice that made tool calls but says `finish_reason: "stop"` gets `"tool_calls"`
 * (the rule of every other path), and `model` names the deployment; only then is the body written anew. The head
 * goes after the body is complete, so an answer cut short fails as an error instead of reaching the caller half.
 */
export class PassthroughWholeAnswer implements AnswerTranslator {
  readonly headFirst = false;
  private answerUsage: Usage | undefined;
  private parts: Buffer[] = [];
  private size = 0;
  private tooLarge: TokiosError | undefined;

  constructor(
    private readonly upstreamStatus: number,
    private readonly upstreamContentType: string,
    /** The deployment name, when the upstream's model has another: the answer's `model` names the deployment. */
    private readonly model?: string,
  ) {}

  get contentType(): string {
    return this.tooLarge === undefined ? this.upstreamContentType : JSON_CONTENT_TYPE;
  }

  status(): number {
    return this.tooLarge?.status ?? this.upstreamStatus;
  }

  usage(): Usage | undefined {
    return this.answerUsage;
  }

  errorCode(): string | undefined {
    return this.tooLarge?.code;
  }

  push(chunk: Buffer): Buffer {
    if (this.tooLarge !== undefined) return EMPTY;
    this.size += chunk.length;
    if (this.size > MAX_WHOLE_ANSWER) {
      this.parts = [];
      this.tooLarge = new TokiosError('upstream_error', `The model server's answer is larger than ${MAX_WHOLE_ANSWER >> 20} MiB; ask for a stream.`);
      return EMPTY;
    }
    // Keep a copy: the caller may reuse its chunk buffer.
    this.parts.push(Buffer.from(chunk));
    return EMPTY;
  }

  end(): Buffer | string {
    if (this.tooLarge !== undefined) return JSON.stringify(openaiErrorBody(this.tooLarge.code, this.tooLarge.message));
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    // Without a rename, most answers need only their usage read: the scan finds it without building the answer.
    if (this.model === undefined) {
      const scan = scanAnswer(body);
      if (scan.kind === 'invalid') return body;
      if (scan.kind === 'plain') {
        if (scan.usage !== undefined) this.answerUsage = openaiUsage(JSON.parse(body.toString('utf8', scan.usage.from, scan.usage.to)));
        return body;
      }
    }
    const parsed = parseJson(body.toString('utf8'));
    if (!parsed.ok || !isRecord(parsed.value)) return body;
    this.answerUsage = openaiUsage(parsed.value['usage']);
    const renamed = this.model !== undefined && typeof parsed.value['model'] === 'string' && parsed.value['model'] !== this.model;
    if (renamed) parsed.value['model'] = this.model;
    return toolFinish(parsed.value) || renamed ? JSON.stringify(parsed.value) : body;
  }

  fail(): string {
    return '';
  }
}

/** Sets `finish_reason` "tool_calls" on each choice whose message has tool calls but says "stop"; true if any changed. */
function toolFinish(answer: Record<string, unknown>): boolean {
  const choices = answer['choices'];
  if (!Array.isArray(choices)) return false;
  let changed = false;
  for (const choice of choices) {
    if (!isRecord(choice) || choice['finish_reason'] !== 'stop' || !isRecord(choice['message'])) continue;
    const calls = choice['message']['tool_calls'];
    if (Array.isArray(calls) && calls.length > 0) {
      choice['finish_reason'] = 'tool_calls';
      changed = true;
    }
  }
  return changed;
}
