export * from './kinds.js';
export * from './errors.js';
export * from './frame.js';
export * from './meta.js';
export * from './chunk.js';
export * from './limits.js';
export * from './close-codes.js';
export * from './request-frames.js';
