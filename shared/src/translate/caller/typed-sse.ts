import { formatSse } from '../../codec/index.js';

/** One Server-Sent Event whose `event:` line equals `data.type` (the Messages and Responses API convention). */
export function typedSse<T extends { type: string }>(data: T): string {
  return formatSse(JSON.stringify(data), data.type);
}
