import { cacheRoot, ensureBundle, type Bundle } from './cache.js';
import { AGENTS, SDKS } from './pins.js';

/**
 * `node test/dist/agents/install.js [agents|sdks|all|<name>…]`: fills the client cache ahead of the tests
 * (they install what they need themselves; this only saves the wait). Prints one line per bundle with its time.
 */
const all: Record<string, Bundle> = { ...AGENTS, ...SDKS };
const args = process.argv.slice(2);
const wanted = args.length === 0 || args.includes('all')
  ? Object.keys(all)
  : args.flatMap((a) => (a === 'agents' ? Object.keys(AGENTS) : a === 'sdks' ? Object.keys(SDKS) : [a]));
const unknown = wanted.filter((n) => !(n in all));
if (unknown.length > 0) {
  console.error(`unknown client ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`);
  process.exit(2);
}
console.error(`agents cache: ${cacheRoot()}`);
let failed = false;
for (const name of wanted) {
  try {
    const r = await ensureBundle(all[name]!);
    console.log(`${name}\t${r.installed ? 'installed' : 'cached'}\t${(r.ms / 1000).toFixed(1)} s\t${r.dir}`);
  } catch (err) {
    failed = true;
    console.log(`${name}\tFAILED\t${(err as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
