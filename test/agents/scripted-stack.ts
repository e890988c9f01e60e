import { defaultOllamaScript, type OllamaScript } from '../support/ollama-upstream.js';
import { defaultScript, type Script } from '../support/openai-upstream.js';
import { OLLAMA_DEP, OPENAI_DEP, startTranslateStack, type TranslateStack } from '../support/translate-stack.js';
import { RecordingProxy, type Exchange } from './recording-proxy.js';
import { decide, offeredTools, type Turn } from './scenario.js';

/** The upstream kinds every real client is run against, and the deployment each is served as. */
export const UPSTREAMS = { ollama: OLLAMA_DEP, 'openai-compatible': OPENAI_DEP } as const;
export type UpstreamKind = keyof typeof UPSTREAMS;
/** Model routes of the three caller APIs (other calls, such as model lists, are not model turns). */
const MODEL_CALL = /^(\/v1)?\/(messages|chat\/completions|responses)(\?|$)/;

/**
 * These suites test clients, not failure detection (the fault tests hold the 900 ms default to account). On a
 * loaded shared machine this test process, which hosts the gateway, and the connector processes stall for longer
 * than that now and then, and a healthy stream failed as `tunnel_lost` (Claude Code retried it; the cell failed).
 */
const GATEWAY_ENV = { TOKIOS_STALL_TIMEOUT_MS: '10000' };

/** What the scripted model decided for one upstream request: the request and the turn it was given. */
export interface Decision {
  body: Record<string, unknown>;
  turn: Turn;
}

/** A text in a few stream pieces, so every answer is really streamed in chunks. */
function pieces(text: string): string[] {
  const n = Math.ceil(text.length / 3);
  return [text.slice(0, n), text.slice(n, 2 * n), text.slice(2 * n)].filter((p) => p.length > 0);
}

function ollamaTurn(turn: Turn): OllamaScript {
  const base = defaultOllamaScript();
  if (turn.kind === 'text') return { ...base, chunks: pieces(turn.text) };
  // Ollama says `stop` after tool calls and sends arguments as an object, whole.
  return { ...base, chunks: [], toolCalls: [{ id: 'call_tokios_1', name: turn.name, arguments: turn.arguments }] };
}

function openaiTurn(turn: Turn): Script {
  const base = defaultScript();
  if (turn.kind === 'text') return { ...base, chunks: pieces(turn.text) };
  return { ...base, chunks: [], finishReason: 'tool_calls', toolCalls: [{ id: 'call_tokios_1', name: turn.name, arguments: JSON.stringify(turn.arguments) }] };
}

/** The text of `role: "tool"` messages of an upstream request (Ollama and OpenAI Chat both use that role). */
export function toolMessages(body: Record<string, unknown>): string[] {
  const messages = Array.isArray(body.messages) ? (body.messages as { role?: unknown }[]) : [];
  return messages.filter((m) => m.role === 'tool').map((m) => JSON.stringify(m));
}

/** What one client run did on the wire and what the scripted model decided meanwhile. */
export interface Window {
  exchanges: Exchange[];
  /** The model turns (POSTs to the three caller APIs) among the exchanges. */
  calls: Exchange[];
  decisions: Decision[];
  /** Every exchange of the window, one line each, for failure messages. */
  describe(): string;
}

/**
 * A real Tokios stack (own nats-server, ingress + terminator, connector processes in front of the scripted
 * Ollama and OpenAI-compatible servers) whose model servers both play the scenario script, behind a recording
 * hop that shows what a client asked and how the gateway answered.
 */
export class ScriptedStack {
  readonly decisions: Decision[] = [];
  /** The working folder of the client being run (image tools want absolute paths). */
  cwd: string | undefined;

  private constructor(
    readonly stack: TranslateStack,
    readonly proxy: RecordingProxy,
  ) {
    const play = (body: Record<string, unknown>): Turn => {
      const turn = decide(JSON.stringify(body), offeredTools(body), this.cwd);
      this.decisions.push({ body, turn });
      return turn;
    };
    stack.ollama.script = (body) => ollamaTurn(play(body));
    stack.openai.script = (body) => openaiTurn(play(body));
  }

  static async start(): Promise<ScriptedStack> {
    const stack = await startTranslateStack(GATEWAY_ENV);
    try {
      return new ScriptedStack(stack, await RecordingProxy.start(stack.origin));
    } catch (err) {
      await stack.close();
      throw err;
    }
  }

  /** Where clients are pointed: the recording hop's origin (no `/v1`). */
  get origin(): string {
    return this.proxy.origin;
  }

  get apiKey(): string {
    return this.stack.apiKey;
  }

  /** Runs `fn` and returns what happened on the wire while it ran. */
  async record<T>(fn: () => Promise<T>): Promise<{ value: T; window: Window }> {
    const firstExchange = this.proxy.exchanges.length;
    const firstDecision = this.decisions.length;
    const value = await fn();
    const exchanges = this.proxy.exchanges.slice(firstExchange);
    return {
      value,
      window: {
        exchanges,
        calls: exchanges.filter((e) => e.method === 'POST' && MODEL_CALL.test(e.url)),
        decisions: this.decisions.slice(firstDecision),
        describe: () => this.proxy.describe(firstExchange),
      },
    };
  }

  async close(): Promise<void> {
    await this.proxy.close();
    await this.stack.close();
  }
}
