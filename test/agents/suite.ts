import type { Test } from 'tap';
import { AGENT_SPECS } from './agents.js';
import { ensureBundle, INSTALL_TIMEOUT_MS } from './cache.js';
import { Cell } from './cell.js';
import type { AgentName } from './pins.js';
import { AGENT_TIMEOUT_MS, describeRun, runAgent } from './run.js';
import { PNG_SIGNATURE } from './scenario.js';
import { ScriptedStack, toolMessages, UPSTREAMS, type UpstreamKind, type Window } from './scripted-stack.js';

/**
 * The agent suite for one agent: installs it into the client cache (a visible skip only when that fails), starts
 * a real Tokios stack whose model servers play the scenario script, and runs the agent non-interactively on a
 * plain prompt, a tool loop (and an image tool result, where the agent has an image tool) against each upstream
 * kind, through a recording hop that shows what the agent asked and how the gateway answered.
 */
export async function agentSuite(t: Test, agent: AgentName): Promise<void> {
  const spec = AGENT_SPECS[agent];
  const kinds = spec.scenarios;
  const names = Object.keys(UPSTREAMS).flatMap((u) => kinds.map((k) => `${agent} via ${u}: ${k}`));
  // A cold install plus every run taking up to AGENT_TIMEOUT_MS, and the stack around them.
  t.setTimeout(INSTALL_TIMEOUT_MS + names.length * AGENT_TIMEOUT_MS + 120_000);
  try {
    const r = await ensureBundle(spec.bundle, (line) => t.comment(line));
    t.comment(`${spec.bundle.id}: ${r.installed ? `installed in ${(r.ms / 1000).toFixed(1)} s` : 'from the client cache'} (${r.dir})`);
  } catch (err) {
    for (const name of names) t.test(name, { skip: `installing ${spec.bundle.id} failed: ${(err as Error).message}` }, async () => {});
    return;
  }

  const s = await ScriptedStack.start();
  t.teardown(() => s.close());

  for (const upstream of Object.keys(UPSTREAMS) as UpstreamKind[]) {
    for (const kind of kinds) {
      await t.test(`${agent} via ${upstream}: ${kind}`, async (t) => {
        const cell = new Cell(t, agent, upstream, kind);
        const target = { origin: s.origin, apiKey: s.apiKey, model: UPSTREAMS[upstream] };
        const attempt = () => s.record(() => runAgent(agent, kind, target, (dir) => (s.cwd = dir)));
        let { value: run, window: w } = await attempt();
        if (agentSideFailure(run.code, run.timedOut, w)) {
          // A real agent is a third-party program: its own loop guard or shell can stop a run that the gateway served
          // in full (every call answered 200). Such a run is tried once more, and the first one is told in full, so a
          // gateway fault that shows only sometimes still shows in the log.
          t.comment(`first run failed on the agent's side (exit ${run.code}); running it once more.\n${describeRun(run)}\ntool messages the model saw:\n${toolTrail(w)}\ngateway exchanges:\n${w.describe()}`);
          ({ value: run, window: w } = await attempt());
        }
        cell.check(!run.timedOut, `${agent} finished within ${AGENT_TIMEOUT_MS} ms`);
        cell.equal(run.code, 0, `${agent} exited 0`);
        cell.answered(w);
        const expected = run.scenario.expected;
        if (kind === 'text') {
          cell.equal(run.answer, expected, 'the final answer is exactly what the model said');
        } else {
          const call = w.decisions.find((d) => d.turn.kind === 'tool');
          const later = call ? w.decisions.slice(w.decisions.indexOf(call) + 1) : [];
          if (kind === 'tool-image') {
            cell.check(call, 'the model asked for the image tool');
            cell.check(later.some((d) => JSON.stringify(d.body).includes(PNG_SIGNATURE)), "the model's next turn got the image from the tool result");
            cell.check(run.answer?.includes(expected), `the final answer carries the model's reading (${expected})`);
          } else {
            cell.check(call, 'the model asked for the shell tool');
            cell.check(later.some((d) => toolMessages(d.body).some((m) => m.includes(expected))), "the model's next turn saw the tool's output in a tool message");
            cell.check(run.answer?.includes(expected), `the final answer carries the tool output (${expected})`);
          }
        }
        cell.finish(w, run.ms, () => describeRun(run));
      });
    }
  }
}

/** The agent stopped with an error although the gateway answered every one of its model calls with 200. */
function agentSideFailure(code: number | null, timedOut: boolean, w: Window): boolean {
  return !timedOut && code !== 0 && w.calls.length > 0 && w.exchanges.every((e) => e.status === 200);
}

/** The tool results each model turn got (scenario data, not user text), cut to keep the log readable. */
function toolTrail(w: Window): string {
  return w.decisions.map((d, i) => `turn ${i + 1}: ${toolMessages(d.body).join(' | ').slice(0, 600) || '(no tool message)'}`).join('\n');
}
