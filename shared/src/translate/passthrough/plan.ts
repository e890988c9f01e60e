import { TokiosError } from '../../errors/registry.js';
import type { AnswerTranslator, UpstreamPlan } from '../answer/translator.js';
import { upstreamErrorAnswer } from '../answer/upstream-error.js';
import { openaiStreamError } from '../caller/openai-chat/stream.js';
import { OPENAI_CHAT_PATH } from '../upstream/openai/request.js';
import { isRecord, parseJson } from '../util.js';
import { PassthroughStreamFilter, type PassthroughStreamOptions } from './stream-filter.js';
import { PassthroughWholeAnswer } from './whole.js';
import { JSON_BODY_HEADERS } from '../upstream/headers.js';

/**
 * OpenAI Chat caller and OpenAI-compatible upstream: the body goes up as the caller sent it and the answer comes back
 * as the upstream sent it, but for what the gateway needs:
 *
 * * `model` is the upstream's model name (the caller sent the deployment name), and the answer's `model` is the
 *   deployment name again, as on the translated paths;
 * * a stream is always asked for usage (`stream_options.include_usage`), so that streamed calls are counted (and
 *   tokens/min limits cannot be escaped by streaming); when the caller did not ask, the answer filter takes the usage
 *   out again;
 * * `finish_reason` is `tool_calls` whenever the answer made a tool call, as on the translated paths (streams: see
 *   ToolFinish; whole answers: whole.ts).
 *
 * The same holds for the other OpenAI endpoints a compatible server has (`path`: legacy completions, embeddings),
 * whose answers have the same `usage` and error shapes.
 *
 * With neither change needed (no rename, not streamed) the body is not even parsed: the ingress parsed it already and
 * took `model` from it.
 */
export function planPassthrough(deploymentName: string, stream: boolean, raw: Buffer, upstreamModel: string, path: string = OPENAI_CHAT_PATH): UpstreamPlan {
  const rename = upstreamModel !== deploymentName;
  let body: string | Buffer = raw;
  let strip = false;
  let toolFinish = false;
  if (rename || stream) {
    const parsed = parseJson(raw.toString('utf8'));
    if (!parsed.ok) throw new TokiosError('invalid_json');
    const value = parsed.value;
    if (!isRecord(value)) throw new TokiosError('invalid_request', 'The request body must be a JSON object.');
    let changed = false;
    if (rename) {
      value['model'] = upstreamModel;
      changed = true;
    }
    if (stream && value['stream'] === true) {
      // Only a request with tools can get tool calls back: a stream without them pays nothing for the rule.
      const tools = value['tools'];
      toolFinish = Array.isArray(tools) && tools.length > 0 && (value['n'] === undefined || value['n'] === null || value['n'] === 1);
      const options = value['stream_options'];
      if (!(isRecord(options) && options['include_usage'] === true)) {
        value['stream_options'] = { ...(isRecord(options) ? options : {}), include_usage: true };
        strip = true;
        changed = true;
      }
    }
    if (changed) body = JSON.stringify(value);
  }
  return {
    path,
    body,
    headers: JSON_BODY_HEADERS,
    // The server gets every field as sent: nothing is ignored by the gateway.
    ignored: [],
    translate: (status, contentType) => passthroughAnswer(status, contentType, { strip, toolFinish, model: rename ? deploymentName : undefined }),
  };
}

/**
 * A 2xx answer goes back as the upstream sent it: an SSE stream through the one line filter, a JSON answer whole
 * once complete; any other content type untouched. A non-2xx one is mapped like any upstream error (OpenAI's error shape).
 */
function passthroughAnswer(status: number, contentType: string, options: PassthroughStreamOptions): AnswerTranslator {
  if (status < 200 || status >= 300) return upstreamErrorAnswer('openai.chat', 'openai', status);
  if (contentType.includes('event-stream')) {
    const filter = new PassthroughStreamFilter(options);
    return {
      headFirst: true,
      status: () => status,
      contentType,
      push: (c) => filter.push(c),
      end: () => filter.end(),
      fail: (e) => openaiStreamError(e),
      usage: () => filter.usage,
      errorCode: () => (filter.errored ? 'upstream_error' : undefined),
    };
  }
  if (contentType.includes('json')) return new PassthroughWholeAnswer(status, contentType, options.model);
  return { headFirst: true, status: () => status, contentType, push: (c) => c, end: () => '', fail: () => '', usage: () => undefined };
}
