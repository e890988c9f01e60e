// The SDK callers of the fixture corpus (Vercel AI SDK providers, LangChain chat models, pinned in the client
// cache) run through a real Tokios stack on each upstream kind: a whole answer, a streamed one, and a tool loop
// (the model asks for the app's tool, the SDK runs it, the model's next turn sees its output).
import t from 'tap';
import { ensureBundle, INSTALL_TIMEOUT_MS } from './cache.js';
import { Cell } from './cell.js';
import { newScenario } from './scenario.js';
import { ScriptedStack, toolMessages, UPSTREAMS, type UpstreamKind } from './scripted-stack.js';
import { preload, SDK_CALLERS, SDK_MODES } from './sdks.js';

t.setTimeout(INSTALL_TIMEOUT_MS + 10 * 60_000);
const bundles = [...new Set(SDK_CALLERS.map((c) => c.bundle))];
const failed = new Map<string, string>();
for (const b of bundles) {
  try {
    const r = await ensureBundle(b, (line) => t.comment(line));
    t.comment(`${b.id}: ${r.installed ? `installed in ${(r.ms / 1000).toFixed(1)} s` : 'from the client cache'}`);
  } catch (err) {
    failed.set(b.id, (err as Error).message);
  }
}
// Before the stack starts: a first import blocks this process (and the gateway in it) for seconds.
for (const c of SDK_CALLERS) if (!failed.has(c.bundle.id)) await preload(c);

const s = await ScriptedStack.start();
t.teardown(() => s.close());

for (const caller of SDK_CALLERS) {
  for (const upstream of Object.keys(UPSTREAMS) as UpstreamKind[]) {
    for (const mode of SDK_MODES) {
      const name = `${caller.id} via ${upstream}: ${mode}`;
      const installError = failed.get(caller.bundle.id);
      if (installError) {
        t.test(name, { skip: `installing ${caller.bundle.id} failed: ${installError}` }, async () => {});
        continue;
      }
      await t.test(name, async (t) => {
        const client = caller.id.slice(0, caller.id.lastIndexOf('@'));
        const cell = new Cell(t, client, upstream, mode);
        const scenario = newScenario(mode === 'tool-loop' ? 'tool-loop' : 'text');
        const started = Date.now();
        const { value: outcome, window: w } = await s.record(async () => {
          try {
            return { answer: await caller.run(s.origin, s.apiKey, UPSTREAMS[upstream], mode, scenario) };
          } catch (err) {
            return { error: (err as Error).message };
          }
        });
        const ms = Date.now() - started;
        cell.equal(outcome.error, undefined, `${caller.id} completed`);
        cell.answered(w);
        if (mode === 'tool-loop') {
          const call = w.decisions.find((d) => d.turn.kind === 'tool');
          const later = call ? w.decisions.slice(w.decisions.indexOf(call) + 1) : [];
          cell.check(call, 'the model asked for the tool');
          cell.check(later.some((d) => toolMessages(d.body).some((m) => m.includes(scenario.expected))), "the model's next turn saw the tool's output in a tool message");
          cell.check(outcome.answer?.includes(scenario.expected), `the final answer carries the tool output (${scenario.expected})`);
        } else {
          cell.equal(outcome.answer, scenario.expected, 'the answer is exactly what the model said');
          if (mode === 'stream') cell.check(w.calls.length > 0 && w.calls.every((c) => c.stream === true), 'every model call was streamed');
        }
        cell.finish(w, ms, () => `answer: ${JSON.stringify(outcome.answer)}; error: ${outcome.error ?? 'none'}`);
      });
    }
  }
}
