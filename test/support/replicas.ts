import { connect, type NatsConnection } from 'nats';
import { OpenAIUpstream } from './openai-upstream.js';
import { startConnectorProc, startIngressProc, type Proc } from './processes.js';
import { startDevStack, type DevStack } from './dev-stack.js';
import { TEST_FABRIC_SECRET } from './nats-auth.js';

/**
 * The dev stack (its terminator holds the tunnel) plus `replicas` separate ingress processes on the same NATS and
 * data dir, one scripted OpenAI upstream behind a connector for `model-a`, and a NATS client for the test.
 */
export interface Replicas {
  stack: DevStack;
  upstream: OpenAIUpstream;
  connector: Proc;
  ingress: { proc: Proc; url: string }[];
  nc: NatsConnection;
  close(): Promise<void>;
}

export async function startReplicas(replicas = 2, env: NodeJS.ProcessEnv = {}): Promise<Replicas> {
  const stack = await startDevStack(['model-a'], env);
  const upstream = await OpenAIUpstream.start('upstream-model');
  const connector = await startConnectorProc({ tunnel_token: stack.seeded.deployments['model-a']!.token, upstream: upstream.url, gateway: stack.gateway, model: 'upstream-model', max_concurrency: 64 });
  const ingress = await Promise.all(
    Array.from({ length: replicas }, () => startIngressProc({ NATS_URL: stack.nats.url, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, TOKIOS_DATA_DIR: stack.seeded.dataDir, LOG_LEVEL: 'info', ...env })),
  );
  const nc = await connect({ servers: stack.nats.url });
  return {
    stack,
    upstream,
    connector,
    ingress,
    nc,
    async close() {
      await nc.close();
      await Promise.all(ingress.map((i) => i.proc.kill('SIGTERM')));
      await connector.kill();
      await upstream.close();
      await stack.close();
    },
  };
}

/** POST /v1/chat/completions with fetch: status, headers and parsed body (no SDK retries). */
export async function chat(base: string, apiKey: string, body: Record<string, unknown>): Promise<{ status: number; headers: Headers; body: any; ms: number }> {
  const t0 = Date.now();
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* streamed or not JSON: keep the text */
  }
  return { status: r.status, headers: r.headers, body: parsed, ms: Date.now() - t0 };
}
