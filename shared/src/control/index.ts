export * from './events.js';
export * from './status.js';
