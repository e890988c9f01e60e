export * from './connect.js';
export * from './env.js';
export * from './roles.js';
export * from './servers.js';
export type { NatsConnection, Msg, Subscription } from 'nats';
export * from './server-config.js';
