export { CodecError, CodecErrorCode } from './errors.js';
export { SseDecoder, decodeSse, formatSse, type SseEvent, type SseDecoderOptions } from './sse.js';
export { NdjsonDecoder, decodeNdjson, type NdjsonDecoderOptions } from './ndjson.js';
export { MAX_JSON_DEPTH, jsonDeeperThan } from './json-depth.js';
export { sha256Hex } from './sha256.js';
