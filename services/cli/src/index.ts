export { runDev, runIngress, runTerminator, runControl, type DevHandle, type IngressHandle, type TerminatorHandle, type Running } from './runners.js';
export { runAdmin } from './admin.js';
export { ensureNats, freePort } from './local-nats.js';
