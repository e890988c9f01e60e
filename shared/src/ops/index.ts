export { Readiness, type ReadinessCheck, type ReadinessReport } from './readiness.js';
export { OPS_PATHS, opsAnswer, opsEnvSchema, metricsAuthorized, serveOps, type OpsAnswer, type OpsEndpoints } from './endpoints.js';
export { NatsState } from './nats-state.js';
export { EarlyListener, LISTEN_BACKLOG, STARTING_READINESS, type StartingAnswer, type UpgradeListener } from './early-listener.js';
