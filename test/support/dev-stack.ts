import { runDev, type DevHandle } from 'tokios';
import { silentLogger } from '@tokios/shared/log';
import { NatsServer } from './nats-server.js';
import { seed, type Seeded } from './seed.js';
import { TEST_FABRIC_SECRET } from './nats-auth.js';

export interface DevStack {
  nats: NatsServer;
  dev: DevHandle;
  seeded: Seeded;
  /** API base with /v1, as SDKs take it. */
  baseURL: string;
  /** Tunnel URL for connectors. */
  gateway: string;
  close(): Promise<void>;
}

/** Our own nats-server plus the in-process `tokios dev` stack on a seeded data dir (fabric secret TEST_FABRIC_SECRET). */
export async function startDevStack(deployments: string[] = ['model-a'], env: NodeJS.ProcessEnv = {}): Promise<DevStack> {
  const nats = await NatsServer.start();
  const seeded = await seed(deployments);
  const dev = await runDev(
    { NATS_URL: nats.url, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, TOKIOS_DATA_DIR: seeded.dataDir, TOKIOS_PORT: '0', TOKIOS_INGRESS_HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env },
    silentLogger(),
  );
  return {
    nats,
    dev,
    seeded,
    baseURL: `http://127.0.0.1:${dev.port}/v1`,
    gateway: `ws://127.0.0.1:${dev.port}/v1/tunnel`,
    async close() {
      await dev.close();
      await nats.stop();
    },
  };
}
