// The README's "Use with your coding agent" section shows exactly the settings the agent suite runs with: the
// config files it writes (compared as data) and every environment variable it sets, with its value. Changing one without the other fails here.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ROOT } from '../support/processes.js';
import { AGENT_SPECS, codexConfig, opencodeConfig, qwenSettings, type AgentTarget } from './agents.js';
import type { AgentName } from './pins.js';

/** The values the README uses in its examples. */
const TARGET: AgentTarget = { origin: 'http://127.0.0.1:8080', apiKey: 'sk-tokios-…', model: 'llama3' };

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const start = readme.indexOf('## Use with your coding agent');
const section = start < 0 ? '' : readme.slice(start, readme.indexOf('\n## ', start + 1));
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
/** TOML/shell text without comment lines and blank lines: what the clients read. */
const meaningful = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));

t.ok(section.length > 0, 'the README has the section');

t.test('config files: as the suite writes them', async (t) => {
  const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.text) as unknown);
  t.ok(json.some((j) => isDeepStrictEqual(j, opencodeConfig(TARGET))), "opencode's opencode.json");
  t.ok(json.some((j) => isDeepStrictEqual(j, qwenSettings())), "Qwen Code's ~/.qwen/settings.json");
  const toml = blocks.filter((b) => b.lang === 'toml').map((b) => meaningful(b.text));
  t.ok(toml.some((lines) => isDeepStrictEqual(lines, meaningful(codexConfig(TARGET)))), "Codex's config.toml");
});

t.test('environment: every variable the suite sets, with its value', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'tokios-readme-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  for (const name of Object.keys(AGENT_SPECS) as AgentName[]) {
    const cmd = await AGENT_SPECS[name].prepare(TARGET, 'hello', home);
    for (const [k, v] of Object.entries(cmd.env)) {
      // Paths into the run's temp HOME are the suite's business; the README names where the file goes instead.
      if (v.startsWith(home)) t.ok(section.includes(k), `${name}: ${k} named`);
      else t.ok(section.includes(`${k}=${v}`), `${name}: ${k}=${v}`);
    }
  }
});
