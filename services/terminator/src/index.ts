export { Terminator, TUNNEL_PATHS } from './terminator.js';
export { terminatorEnvSchema, terminatorOptionsFromEnv, type TerminatorOptions, type TerminatorEnv } from './config.js';
export { CloseCode } from '@tokios/shared/protocol';
