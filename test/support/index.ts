export * from './nats-server.js';
export * from './openai-upstream.js';
export * from './processes.js';
export * from './seed.js';
export * from './dev-stack.js';
export * from './ollama-upstream.js';
export * from './translate-stack.js';
export * from './sdk-callers.js';
