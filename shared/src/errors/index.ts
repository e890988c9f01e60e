export * from './registry.js';
export * from './render.js';
