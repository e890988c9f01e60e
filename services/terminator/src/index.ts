export { Terminator, TUNNEL_PATHS, terminatorStartingAnswer } from './terminator.js';
export { terminatorEnvSchema, terminatorOptionsFromEnv, type TerminatorOptions, type TerminatorEnv } from './config.js';
export { CloseCode } from '@tokios/shared/protocol';
// The parts Terminator composes, for component tests and other compositions.
export { TunnelRegistry, type Placeable } from './registry.js';
export { Tunnel, type TunnelStream } from './tunnel.js';
export { TunnelSession, connectorIdentity, type SessionContext, type TunnelGrant } from './tunnel-session.js';
export { TunnelServer } from './tunnel-server.js';
export { RequestIntake, type IntakeOptions } from './intake.js';
export { RequestSubjects, type OnRequest } from './request-subjects.js';
export { RelayStream, type RelayContext } from './relay.js';
export { TerminatorMetrics, type TerminatorObserver, type UpgradeRefusal } from './metrics.js';
export { type TerminatorOps } from './terminator.js';
export { AckBatcher, ACK_DEFER_MS, type DeferredAck } from './ack-batcher.js';
export { RevokedTokens } from './revoked-tokens.js';
