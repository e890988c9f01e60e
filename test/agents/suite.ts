import type { Test } from 'tap';
import { defaultOllamaScript, type OllamaScript } from '../support/ollama-upstream.js';
import { defaultScript, type Script } from '../support/openai-upstream.js';
import { OLLAMA_DEP, OPENAI_DEP, startTranslateStack, type TranslateStack } from '../support/translate-stack.js';
import { AGENT_SPECS } from './agents.js';
import { ensureBundle, INSTALL_TIMEOUT_MS } from './cache.js';
import type { AgentName } from './pins.js';
import { RecordingProxy } from './recording-proxy.js';
import { AGENT_TIMEOUT_MS, describeRun, runAgent } from './run.js';
import { decide, offeredTools, PNG_SIGNATURE, type Turn } from './scenario.js';

/** The upstream kinds every agent is run against, and the deployment each is served as. */
const UPSTREAMS = { ollama: OLLAMA_DEP, 'openai-compatible': OPENAI_DEP } as const;
type UpstreamKind = keyof typeof UPSTREAMS;
/** Model routes of the three caller APIs (other calls, such as model lists, are not model turns). */
const MODEL_CALL = /^(\/v1)?\/(messages|chat\/completions|responses)(\?|$)/;

/** What the scripted model decided for one upstream request: the request and the turn it was given. */
interface Decision {
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

/** Both scripted model servers play the scenario script; every decision is kept for the assertions. */
function scriptUpstreams(s: TranslateStack, log: Decision[], cwd: () => string | undefined): void {
  const play = (body: Record<string, unknown>): Turn => {
    const turn = decide(JSON.stringify(body), offeredTools(body), cwd());
    log.push({ body, turn });
    return turn;
  };
  s.ollama.script = (body) => ollamaTurn(play(body));
  s.openai.script = (body) => openaiTurn(play(body));
}

/** The text of `role: "tool"` messages of an upstream request (Ollama and OpenAI Chat both use that role). */
function toolMessages(body: Record<string, unknown>): string[] {
  const messages = Array.isArray(body.messages) ? (body.messages as { role?: unknown }[]) : [];
  return messages.filter((m) => m.role === 'tool').map((m) => JSON.stringify(m));
}

/**
 * The agent suite for one agent: installs it into the client cache (a visible skip only when that fails), starts
 * a real Tokios stack (own nats-server, ingress + terminator, connector processes in front of the scripted
 * Ollama and OpenAI-compatible servers), and runs the agent non-interactively on a plain prompt, a tool loop (and
 * an image tool result, where the agent has an image tool) against each upstream kind, through a recording hop that shows what the agent asked and how the gateway answered.
 */
export async function agentSuite(t: Test, agent: AgentName): Promise<void> {
  const kinds = AGENT_SPECS[agent].scenarios;
  const names = Object.keys(UPSTREAMS).flatMap((u) => kinds.map((k) => `${agent} via ${u}: ${k}`));
  // A cold install plus every run taking up to AGENT_TIMEOUT_MS, and the stack around them.
  t.setTimeout(INSTALL_TIMEOUT_MS + names.length * AGENT_TIMEOUT_MS + 120_000);
  const spec = AGENT_SPECS[agent];
  try {
    const r = await ensureBundle(spec.bundle, (line) => t.comment(line));
    t.comment(`${spec.bundle.id}: ${r.installed ? `installed in ${(r.ms / 1000).toFixed(1)} s` : 'from the client cache'} (${r.dir})`);
  } catch (err) {
    for (const name of names) t.test(name, { skip: `installing ${spec.bundle.id} failed: ${(err as Error).message}` }, async () => {});
    return;
  }

  const stack = await startTranslateStack();
  const proxy = await RecordingProxy.start(stack.origin);
  t.teardown(async () => {
    await proxy.close();
    await stack.close();
  });
  const decisions: Decision[] = [];
  let cwd: string | undefined;
  scriptUpstreams(stack, decisions, () => cwd);

  for (const upstream of Object.keys(UPSTREAMS) as UpstreamKind[]) {
    for (const kind of kinds) {
      await t.test(`${agent} via ${upstream}: ${kind}`, async (t) => {
        const firstExchange = proxy.exchanges.length;
        const firstDecision = decisions.length;
        const run = await runAgent(agent, kind, { origin: proxy.origin, apiKey: stack.apiKey, model: UPSTREAMS[upstream] }, (dir) => (cwd = dir));
        const exchanges = proxy.exchanges.slice(firstExchange);
        const mine = decisions.slice(firstDecision);
        const calls = exchanges.filter((e) => e.method === 'POST' && MODEL_CALL.test(e.url));
        const context = `${describeRun(run)}\ngateway exchanges:\n${proxy.describe(firstExchange)}`;
        const streamed = calls.length > 0 && calls.every((c) => c.stream === true);

        t.notOk(run.timedOut, `${agent} finished within ${AGENT_TIMEOUT_MS} ms`);
        t.equal(run.code, 0, `${agent} exited 0`);
        t.ok(calls.length > 0, 'the agent called the gateway');
        for (const c of calls) {
          t.equal(c.status, 200, `${c.method} ${c.url} answered 200`);
          if (c.stream) t.match(c.contentType, /^text\/event-stream/, `${c.url} streamed as asked`);
        }
        if (kind === 'text') {
          t.equal(run.answer, run.scenario.expected, 'the final answer is exactly what the model said');
        } else if (kind === 'tool-image') {
          const call = mine.find((d) => d.turn.kind === 'tool');
          t.ok(call, 'the model asked for the image tool');
          const later = call ? mine.slice(mine.indexOf(call) + 1) : [];
          t.ok(later.some((d) => JSON.stringify(d.body).includes(PNG_SIGNATURE)), "the model's next turn got the image from the tool result");
          t.ok(run.answer?.includes(run.scenario.expected), `the final answer carries the model's reading (${run.scenario.expected})`);
        } else {
          const call = mine.find((d) => d.turn.kind === 'tool');
          t.ok(call, 'the model asked for the shell tool');
          const sawOutput = mine.some((d) => toolMessages(d.body).some((m) => m.includes(run.scenario.expected)));
          t.ok(sawOutput, "the model's next turn saw the tool's output in a tool message");
          t.ok(run.answer?.includes(run.scenario.expected), `the final answer carries the tool output (${run.scenario.expected})`);
        }
        // What the agent did and what the gateway answered, once, when anything above failed.
        if (!t.passing()) t.comment(context);
        // One line per cell of the measured matrix (agent × upstream kind × scenario), for the record.
        t.comment(`matrix: ${agent} × ${upstream} × ${kind}: ${t.passing() ? 'pass' : 'FAIL'}, ${calls.length} model call(s), ${streamed ? 'streamed' : 'not streamed'}, ${(run.ms / 1000).toFixed(1)} s`);
      });
    }
  }
}
