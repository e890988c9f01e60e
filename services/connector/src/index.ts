export { Connector, type ConnectorHooks } from './connector.js';
export { loadConnectorConfig, parseConnectorConfig, connectorFileSchema, DEFAULT_GATEWAY, type ConnectorConfig } from './config.js';
export { Backoff } from './backoff.js';
export { ConnectorMetrics, type RequestObserver, type UpstreamErrorKind } from './metrics.js';
export { connectorEnvSchema, connectorEnvFromProcess, listenOps, type ConnectorEnv } from './ops-server.js';
