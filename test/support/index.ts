export * from './nats-server.js';
export * from './openai-upstream.js';
export * from './processes.js';
export * from './seed.js';
export * from './dev-stack.js';
export * from './fabric.js';
export * from './tcp-balancer.js';
