import { applyEdits, stringEnd, valueAt, type Edit } from './members.js';
import { QUOTE } from '../../codec/json-bytes.js';

const MODEL_KEY = Buffer.from('"model"');

/**
 * Passthrough answers name the deployment, like translated ones: the caller asked for `model: "<deployment>"` and the
 * upstream answers with its own model name (`qwen2.5-coder:7b`, a file path, …), which would leak the server's naming
 * and break clients that match the answer's model against the one they asked for.
 *
 * Byte level, on complete SSE lines (see members.ts: a quoted key followed by `:` is always a member, never string
 * content); every string value of a `"model"` member is replaced. Chat, completion and embedding objects have one, at
 * the top level.
 */
export class ModelName {
  private readonly name: Buffer;

  constructor(deploymentName: string) {
    this.name = Buffer.from(JSON.stringify(deploymentName));
  }

  /** `data` with each `"model":"…"` value replaced by the deployment name; the same buffer when there is none. */
  apply(data: Buffer): Buffer {
    let edits: Edit[] | undefined;
    for (let at = data.indexOf(MODEL_KEY); at !== -1; at = data.indexOf(MODEL_KEY, at + MODEL_KEY.length)) {
      const value = valueAt(data, at + MODEL_KEY.length);
      if (value === -1 || data[value] !== QUOTE) continue;
      const end = stringEnd(data, value);
      if (end === -1) continue;
      if (end - value === this.name.length && data.compare(this.name, 0, this.name.length, value, end) === 0) continue;
      (edits ??= []).push({ from: value, to: end, bytes: this.name });
      at = end - MODEL_KEY.length;
    }
    return edits === undefined ? data : applyEdits(data, edits);
  }
}
