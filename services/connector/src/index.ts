export { Connector, type ConnectorHooks } from './connector.js';
export { loadConnectorConfig, parseConnectorConfig, connectorFileSchema, forDeployment, DEFAULT_GATEWAY, MAX_DEPLOYMENTS, type ConnectorConfig, type DeploymentConfig } from './config.js';
export { Backoff } from './backoff.js';
export { ConnectorMetrics, type RequestObserver, type UpstreamErrorKind } from './metrics.js';
export { connectorEnvSchema, connectorEnvFromProcess, listenOps, type ConnectorEnv } from './ops-server.js';
export { ConnectorGroup, type ConnectorGroupHooks } from './group.js';
export { ModelServer } from './model-server.js';
