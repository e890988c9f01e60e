export { buildIngressApp, createIngressServer, type IngressDeps } from './app.js';
export { ingressStartingAnswer } from './starting.js';
export { FabricClient, Call } from './fabric.js';
export { ingressEnvSchema, ingressOptionsFromEnv, defaultIngressOptions, type IngressOptions, type IngressEnv } from './config.js';
export { IngressControlPlane, defaultControlPlaneOptions, type ControlPlaneOptions } from './control-plane.js';
export { QuotaLimiter, type QuotaOptions } from './quota/limiter.js';
export { closeGracefully } from './shutdown.js';
