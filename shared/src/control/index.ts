export * from './events.js';
export * from './status.js';
export * from './gather.js';
