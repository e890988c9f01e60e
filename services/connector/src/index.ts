export { Connector, type ConnectorHooks } from './connector.js';
export { loadConnectorConfig, parseConnectorConfig, connectorFileSchema, DEFAULT_GATEWAY, type ConnectorConfig } from './config.js';
export { Backoff } from './backoff.js';
