import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../support/processes.js';
import { AGENT_SPECS } from './agents.js';
import { ensureBundle } from './cache.js';
import { fixtureRequest, type Fixture } from './fixture.js';
import { AGENTS, type AgentName } from './pins.js';
import { CallerResponder } from './responder.js';
import { describeRun, runAgent } from './run.js';
import { newScenario } from './scenario.js';
import { SDK_CALLERS, SDK_MODES } from './sdks.js';

/**
 * `node test/dist/agents/capture.js [client…]` (after `npm run build`): records what each pinned client sends
 * and writes the golden corpus, `test/fixtures/clients/<protocol>/<client>@<version>.<scenario>.json`. Every
 * client runs against a plain scripted responder (not Tokios), so a gateway that refuses a new field still gets
 * its fixture. Clients are installed into the client cache first. With names, only those clients are recorded.
 */
const OUT = join(ROOT, 'test', 'fixtures', 'clients');
const MODEL = 'tokios-model';

const only = process.argv.slice(2);
const wanted = (name: string): boolean => only.length === 0 || only.some((o) => name.startsWith(o));
let failures = 0;

async function write(f: Fixture): Promise<void> {
  const dir = join(OUT, f.protocol);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${f.client}.${f.scenario}.json`);
  await writeFile(file, `${JSON.stringify(f, null, 2)}\n`);
  console.log(`${f.client} ${f.scenario}: ${f.requests.length} requests → ${file.slice(ROOT.length + 1)}`);
}

for (const name of Object.keys(AGENT_SPECS) as AgentName[]) {
  if (!wanted(name)) continue;
  const spec = AGENT_SPECS[name];
  await ensureBundle(spec.bundle);
  const version = spec.bundle.id.slice(spec.bundle.id.lastIndexOf('@') + 1);
  for (const kind of spec.scenarios) {
    const responder = await CallerResponder.start();
    try {
      const r = await runAgent(name, kind, { origin: responder.url, apiKey: 'sk-tokios-capture', model: MODEL }, (cwd) => (responder.cwd = cwd));
      const ok = r.answer !== undefined && r.answer.includes(r.scenario.expected);
      if (!ok) {
        failures++;
        console.error(`${name} ${kind}: the run did not complete as scripted\n${describeRun(r)}`);
      }
      await write({
        client: `${name}@${version}`, packages: [...AGENTS[name].packages], protocol: spec.protocol, scenario: kind,
        answer: r.answer ?? '', requests: responder.requests.map(fixtureRequest),
      });
    } finally {
      await responder.close();
    }
  }
}

for (const caller of SDK_CALLERS) {
  if (!wanted(caller.id)) continue;
  await ensureBundle(caller.bundle);
  for (const mode of SDK_MODES) {
    const responder = await CallerResponder.start();
    const scenario = newScenario(mode === 'tool-loop' ? 'tool-loop' : 'text');
    try {
      let answer = '';
      try {
        answer = await caller.run(responder.url, 'sk-tokios-capture', MODEL, mode, scenario);
      } catch (err) {
        console.error(`${caller.id} ${mode}: ${(err as Error).stack}`);
      }
      if (!answer.includes(scenario.expected)) {
        failures++;
        console.error(`${caller.id} ${mode}: answer ${JSON.stringify(answer)} lacks ${scenario.expected}`);
      }
      await write({
        client: caller.id, packages: [...caller.bundle.packages], protocol: caller.protocol, scenario: mode,
        answer, requests: responder.requests.map(fixtureRequest),
      });
    } finally {
      await responder.close();
    }
  }
}

if (failures > 0) console.error(`${failures} run(s) did not complete; their fixtures hold what was sent up to the failure`);
process.exit(failures > 0 ? 1 : 0);
