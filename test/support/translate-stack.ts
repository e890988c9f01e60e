import { getGlobalDispatcher } from 'undici';
import { startDevStack, type DevStack } from './dev-stack.js';
import { OllamaUpstream } from './ollama-upstream.js';
import { OpenAIUpstream } from './openai-upstream.js';
import { startConnectorProc, type Proc } from './processes.js';
import { makeClients, type Clients } from './sdk-callers.js';

/** Deployment served by a connector in front of the scripted Ollama (translated for every caller). */
export const OLLAMA_DEP = 'team-llama';
/** Deployment served by a connector in front of the scripted OpenAI-compatible server. */
export const OPENAI_DEP = 'team-vllm';
/** Deployment whose connector asks Ollama for a model it has not pulled. */
export const MISSING_DEP = 'team-unpulled';

export interface ProbeLog {
  kind: string;
  detected: boolean;
  models: string[];
  msg: string;
}

export interface TranslateStack {
  stack: DevStack;
  ollama: OllamaUpstream;
  openai: OpenAIUpstream;
  connectors: Record<string, Proc>;
  /** What each connector logged about the upstream it probed. */
  probes: Record<string, ProbeLog>;
  /** http://127.0.0.1:port (no /v1). */
  origin: string;
  apiKey: string;
  clients: Clients;
  close(): Promise<void>;
}

/** The connector's startup line about the upstream (pino JSON). */
export function probeLog(output: string): ProbeLog {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as Partial<ProbeLog>;
      if (typeof v.kind === 'string' && typeof v.detected === 'boolean') return v as ProbeLog;
    } catch {
      // not a log line
    }
  }
  throw new Error(`no probe line in the connector output:\n${output.slice(-2000)}`);
}

/**
 * One gateway (in-process ingress + terminator, own NATS) with three connector processes, upstream kind left to
 * auto-detection: Ollama, OpenAI-compatible, and Ollama configured with a model it does not have. `env` goes to
 * the gateway (`tokios dev`).
 */
export async function startTranslateStack(env: NodeJS.ProcessEnv = {}): Promise<TranslateStack> {
  const stack = await startDevStack([OLLAMA_DEP, OPENAI_DEP, MISSING_DEP], env);
  const [ollama, openai] = await Promise.all([OllamaUpstream.start(['llama3.2:latest']), OpenAIUpstream.start('Qwen/Qwen2.5-7B-Instruct')]);
  const procs: Proc[] = [];
  const close = async (): Promise<void> => {
    // After a client abort, fetch's pool keeps a fresh, never-used connection to the gateway; Node's server.close()
    // waits for such a connection until its headers timeout (60 s). Closing the client pool first ends it at once.
    await getGlobalDispatcher().destroy();
    await Promise.all(procs.map((c) => c.kill()));
    await Promise.all([ollama.close(), openai.close()]);
    await stack.close();
  };
  const token = (name: string) => stack.seeded.deployments[name]!.token;
  // Generous start-up bound: the test machine may be shared and busy. The probe line is awaited too: pino writes
  // asynchronously, so it may reach us after "Tunnel established".
  const start = async (config: Parameters<typeof startConnectorProc>[0]): Promise<Proc> => {
    const proc = await startConnectorProc(config, {}, false);
    procs.push(proc);
    await proc.waitFor(/Tunnel established/, 60_000);
    await proc.waitFor(/"msg":"upstream (speaks|kind)/, 10_000);
    return proc;
  };
  try {
    const entries = await Promise.all([
      start({ tunnel_token: token(OLLAMA_DEP), upstream: ollama.url, gateway: stack.gateway, tunnels: 1 }),
      start({ tunnel_token: token(OPENAI_DEP), upstream: `${openai.url}/v1`, gateway: stack.gateway, tunnels: 1 }),
      start({ tunnel_token: token(MISSING_DEP), upstream: ollama.url, gateway: stack.gateway, tunnels: 1, model: 'mistral:7b' }),
    ]);
    const connectors = { [OLLAMA_DEP]: entries[0], [OPENAI_DEP]: entries[1], [MISSING_DEP]: entries[2] };
    const probes: Record<string, ProbeLog> = {};
    for (const [name, proc] of Object.entries(connectors)) probes[name] = probeLog(proc.output);
    const origin = stack.baseURL.replace(/\/v1$/, '');
    return { stack, ollama, openai, connectors, probes, origin, apiKey: stack.seeded.apiKey, clients: makeClients(origin, stack.seeded.apiKey), close };
  } catch (err) {
    await close();
    throw err;
  }
}

