import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './processes.js';

/** What the acceptance policy says happens to a field (docs/protocols.md, "Acceptance policy"). */
export type Outcome = 'honoured' | 'mapped' | 'ignored' | 'dropped' | 'rejected';
const OUTCOMES: readonly Outcome[] = ['honoured', 'mapped', 'ignored', 'dropped', 'rejected'];

export interface PolicyRow {
  /** The field as the table names it (a reported name for ignored/dropped rows, the 400's param for rejected ones). */
  field: string;
  /** Merged into a minimal request of the protocol. */
  example: Record<string, unknown>;
  /** On an OpenAI-compatible server. */
  openai: Outcome;
  /** On Ollama. */
  ollama: Outcome;
}

export type PolicyTables = Record<'anthropic' | 'responses' | 'chat', PolicyRow[]>;

const SECTIONS = { anthropic: '### Anthropic Messages', responses: '### OpenAI Responses', chat: '### OpenAI Chat Completions' } as const;

function outcome(text: string, where: string): Outcome {
  if (!(OUTCOMES as readonly string[]).includes(text)) throw new Error(`${where}: unknown outcome '${text}'`);
  return text as Outcome;
}

/** `honoured` or `honoured · Ollama: rejected`. */
function outcomes(cell: string, where: string): { openai: Outcome; ollama: Outcome } {
  const [first, ...rest] = cell.split(' · ');
  const base = outcome(first!.trim(), where);
  const out = { openai: base, ollama: base };
  for (const r of rest) {
    const m = /^Ollama: (\w+)$/.exec(r.trim());
    if (!m) throw new Error(`${where}: unknown qualifier '${r}'`);
    out.ollama = outcome(m[1]!, where);
  }
  return out;
}

/** The three policy tables of docs/protocols.md, row by row. */
export async function readPolicyTables(): Promise<PolicyTables> {
  const text = await readFile(join(ROOT, 'docs', 'protocols.md'), 'utf8');
  const tables = {} as PolicyTables;
  for (const [key, heading] of Object.entries(SECTIONS) as Array<[keyof PolicyTables, string]>) {
    const start = text.indexOf(heading);
    if (start === -1) throw new Error(`docs/protocols.md has no section '${heading}'`);
    const lines = text.slice(start).split('\n');
    const rows: PolicyRow[] = [];
    let inTable = false;
    for (const line of lines.slice(1)) {
      if (line.startsWith('#')) break;
      if (!line.startsWith('|')) {
        if (inTable) break;
        continue;
      }
      inTable = true;
      const cells = line.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim());
      if (cells[0] === 'field' || cells[0]!.startsWith('---')) continue;
      const where = `${heading} row ${cells[0]}`;
      const field = /^`([^`]+)`/.exec(cells[0]!)?.[1];
      const example = /^`(.*)`$/.exec(cells[1] ?? '')?.[1];
      if (field === undefined || example === undefined) throw new Error(`${where}: field and example must be code`);
      rows.push({ field, example: JSON.parse(example) as Record<string, unknown>, ...outcomes(cells[2] ?? '', where) });
    }
    tables[key] = rows;
  }
  return tables;
}
