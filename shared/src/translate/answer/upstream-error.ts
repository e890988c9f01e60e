import { TokiosError } from '../../errors/registry.js';
import { renderError } from '../../errors/render.js';
import type { CallerProtocol, UpstreamKind } from '../../protocol/meta.js';
import { UPSTREAMS } from '../upstream/index.js';
import { JSON_CONTENT_TYPE, type AnswerTranslator } from './translator.js';

/** Only this much of an error body is kept; the mapping reads no further anyway. */
const MAX_ERROR_BODY = 1024 * 1024;

/**
 * A non-2xx answer from the model server, before any answer: read whole, then given to the caller in its own error
 * shape with the mapped status (never the upstream's wording about its models). The same for every caller and
 * upstream, passthrough included.
 */
export function upstreamErrorAnswer(protocol: CallerProtocol, kind: UpstreamKind, status: number): AnswerTranslator {
  const parts: Buffer[] = [];
  let size = 0;
  let mapped: TokiosError | undefined;
  return {
    headFirst: false,
    status: () => mapped?.status ?? 502,
    contentType: JSON_CONTENT_TYPE,
    push: (c) => {
      if (size < MAX_ERROR_BODY) parts.push(c);
      size += c.length;
      return '';
    },
    end: () => {
      const { code, message } = UPSTREAMS[kind].parseError(status, Buffer.concat(parts).toString('utf8'));
      mapped = new TokiosError(code, message);
      return JSON.stringify(renderError(protocol, mapped));
    },
    fail: () => '',
    usage: () => undefined,
    errorCode: () => mapped?.code ?? 'upstream_error',
  };
}
