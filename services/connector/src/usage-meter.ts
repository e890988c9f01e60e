import type { RequestMeta, Usage } from '@tokios/shared/protocol';
import { passthroughTranslator, type ResponseTranslator, type UpstreamPlan } from './plan.js';
import { fromOpenAIUsage, parseObject } from './openai-usage.js';
import { SseUsageFilter } from './sse-usage-filter.js';

/** A non-streamed answer larger than this is relayed without looking for its usage. */
const MAX_METERED_JSON = 8 * 1024 * 1024;

/**
 * Token counts for OpenAI chat passthrough (caller and upstream both speak OpenAI), whose bytes are relayed
 * untouched and so carry no usage of their own. Other plans (translations) report usage themselves and are
 * returned unchanged.
 *
 * * Non-streamed: the answer's `usage` object.
 * * Streamed, caller asked `stream_options.include_usage`: the `usage` of the last chunk that has one; the
 *   stream is relayed byte for byte.
 * * Streamed, caller did not ask: the upstream is asked for usage anyway (`include_usage: true`) and the stream
 *   is given back as the caller asked for it: the usage-only final chunk is dropped and the `"usage":null`
 *   member the upstream adds to the other chunks is removed. The caller's bytes are the upstream's bytes
 *   except for those removals. Without this a streamed call would have no token count and tokens/min limits
 *   could be escaped by streaming.
 */
export function meterPassthrough(meta: RequestMeta, plan: UpstreamPlan): UpstreamPlan {
  if (meta.protocol !== 'openai.chat' || !plan.passthrough) return plan;
  if (!meta.stream) return { ...plan, translate: (status, contentType) => jsonMeter(passthroughTranslator(status, contentType)) };
  const body = parseObject(typeof plan.body === 'string' ? plan.body : plan.body.toString('utf8'));
  if (!body) return plan;
  const opts = body.stream_options;
  const asked = typeof opts === 'object' && opts !== null && (opts as { include_usage?: unknown }).include_usage === true;
  const strip = !asked;
  const out = asked ? plan.body : JSON.stringify({ ...body, stream_options: { ...(typeof opts === 'object' && opts !== null ? opts : {}), include_usage: true } });
  return {
    ...plan,
    body: out,
    translate: (status, contentType) => {
      const inner = passthroughTranslator(status, contentType);
      return status < 400 && contentType.includes('event-stream') ? sseMeter(inner, strip) : inner;
    },
  };
}

function jsonMeter(inner: ResponseTranslator): ResponseTranslator {
  const parts: Buffer[] = [];
  let size = 0;
  let usage: Usage | undefined;
  const metered = inner.status() < 400 && inner.contentType.includes('json');
  return {
    ...inner,
    push(chunk) {
      if (metered && size <= MAX_METERED_JSON) {
        parts.push(Buffer.from(chunk));
        size += chunk.length;
      }
      return inner.push(chunk);
    },
    end() {
      if (metered && size <= MAX_METERED_JSON) usage = fromOpenAIUsage(parseObject(Buffer.concat(parts).toString('utf8'))?.usage);
      parts.length = 0;
      return inner.end();
    },
    usage: () => usage,
  };
}

const toBuffer = (b: Buffer | string | Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b));

/** Reads (and, when asked, strips) usage from the stream, then hands the bytes on to the passthrough translator. */
function sseMeter(inner: ResponseTranslator, strip: boolean): ResponseTranslator {
  const filter = new SseUsageFilter(strip);
  return {
    ...inner,
    push: (chunk) => inner.push(toBuffer(filter.push(toBuffer(chunk)))),
    end: () => {
      const last = filter.end();
      const head = last.length > 0 ? toBuffer(inner.push(toBuffer(last))) : Buffer.alloc(0);
      const tail = toBuffer(inner.end());
      return head.length === 0 ? tail : tail.length === 0 ? head : Buffer.concat([head, tail]);
    },
    usage: () => filter.usage,
  };
}
