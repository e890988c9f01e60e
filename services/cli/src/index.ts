export { runDev, runIngress, runTerminator, runControl, type DevHandle, type IngressHandle, type TerminatorHandle, type Running } from './runners.js';
export { runAdmin } from './admin.js';
export { startLocalNats, freePort, type LocalNats } from './local-nats.js';
export { runNatsConfigCommand } from './nats-config-cmd.js';
export { ensureRoleCredentials, parseEnvFile, roleEnvFile } from './nats-credentials.js';
