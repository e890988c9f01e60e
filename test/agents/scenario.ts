import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from '../support/sdk-callers.js';

/**
 * The scripted "model" behind every real-client run: the prompt names a scenario and a nonce, and each model turn
 * is decided from what the request carries: the tools on offer and whether a tool's output has come back. The
 * same decisions serve the scripted model servers (Ollama and OpenAI-compatible wire formats, behind the gateway)
 * and the capture responder (the caller APIs, for the fixture corpus), so every wire format plays one script.
 */
export const SCENARIOS = ['text', 'tool-loop', 'tool-image'] as const;
export type ScenarioKind = (typeof SCENARIOS)[number];

/** What the model says or does in one turn. */
export type Turn =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; name: string; arguments: Record<string, unknown> };

/** A tool as offered in a request, whatever the wire format. */
export interface OfferedTool {
  name: string;
  schema: Record<string, unknown>;
}

/** One client run of a scenario: the prompt to give it, the files it works on, the answer to expect. */
export interface Scenario {
  kind: ScenarioKind;
  nonce: string;
  prompt: string;
  /** What the client's final output must be (text) or contain (tool scenarios). */
  expected: string;
  /** Writes the scenario's files into the client's working folder. */
  prepare(cwd: string): Promise<void>;
}

/** Shell tool names of the clients we run: Claude Code, Codex (three generations), opencode, Qwen Code. */
export const SHELL_TOOLS = ['Bash', 'exec_command', 'shell_command', 'shell', 'bash', 'run_shell_command'] as const;
/** Tools that read an image file and hand it to the model: Claude Code's Read, Codex's view_image, Qwen's read_file. */
export const IMAGE_TOOLS = ['Read', 'view_image', 'read', 'read_file'] as const;

const NOTE_FILE = 'tokios-note.txt';
const IMAGE_FILE = 'tokios-pixel.png';
const KEY = /tokios-scenario:(text|tool-loop|tool-image):([0-9a-f]{12})/;
/** Only in the note file, so only a tool run can bring it into a request. */
const NOTE = /tokios-note-[0-9a-f]{12}/;
/** The PNG's base64 signature: present once the image tool's result came back (any wire format carries it so). */
export const PNG_SIGNATURE = 'iVBORw0KGgo';

export function newScenario(kind: ScenarioKind): Scenario {
  const nonce = randomBytes(6).toString('hex');
  const key = `tokios-scenario:${kind}:${nonce}`;
  const note = `tokios-note-${randomBytes(6).toString('hex')}`;
  switch (kind) {
    case 'text':
      return {
        kind, nonce, expected: `tokios-answer-${nonce}`,
        prompt: `${key} Reply with the answer code only.`,
        prepare: async () => {},
      };
    case 'tool-loop':
      return {
        kind, nonce, expected: note,
        prompt: `${key} Use your shell tool to print the file ${NOTE_FILE} in the current folder, then tell me what it says.`,
        prepare: (cwd) => writeFile(join(cwd, NOTE_FILE), `${note}\n`),
      };
    case 'tool-image':
      return {
        kind, nonce, expected: `tokios-image-${nonce}`,
        prompt: `${key} Look at the image ${IMAGE_FILE} in the current folder and tell me its code.`,
        prepare: (cwd) => writeFile(join(cwd, IMAGE_FILE), Buffer.from(PNG, 'base64')),
      };
  }
}

/**
 * The model's next turn for a request body (any wire format, read as text for the scenario key and the tool
 * output, and through `tools` for what it may call). Requests without a scenario key (a client's side calls:
 * titles, summaries, probes) get a short plain answer.
 */
export function decide(rawBody: string, tools: OfferedTool[], cwdHint?: string): Turn {
  const key = KEY.exec(rawBody);
  if (!key) return { kind: 'text', text: 'ok' };
  const [, kind, nonce] = key;
  if (kind === 'text') return { kind: 'text', text: `tokios-answer-${nonce}` };
  if (kind === 'tool-loop') {
    const seen = NOTE.exec(rawBody);
    if (seen) return { kind: 'text', text: `The note says ${seen[0]}` };
    const tool = pick(tools, SHELL_TOOLS);
    if (!tool) return { kind: 'text', text: `no shell tool offered (tools: ${tools.map((t) => t.name).join(', ')})` };
    return { kind: 'tool', name: tool.name, arguments: shellArguments(tool.schema, `cat ${NOTE_FILE}`) };
  }
  if (rawBody.includes(PNG_SIGNATURE)) return { kind: 'text', text: `The image code is tokios-image-${nonce}` };
  const tool = pick(tools, IMAGE_TOOLS);
  if (!tool) return { kind: 'text', text: `no image tool offered (tools: ${tools.map((t) => t.name).join(', ')})` };
  return { kind: 'tool', name: tool.name, arguments: pathArguments(tool.schema, cwdPath(rawBody, cwdHint)) };
}

function pick(tools: OfferedTool[], names: readonly string[]): OfferedTool | undefined {
  for (const n of names) {
    const t = tools.find((x) => x.name === n);
    if (t) return t;
  }
  return undefined;
}

function properties(schema: Record<string, unknown>): Record<string, { type?: unknown }> {
  const p = schema.properties;
  return p && typeof p === 'object' ? (p as Record<string, { type?: unknown }>) : {};
}

/** Fills the shell tool's command field as its schema wants it (a string, or argv for Codex's old `shell`). */
function shellArguments(schema: Record<string, unknown>, command: string): Record<string, unknown> {
  const props = properties(schema);
  const out: Record<string, unknown> = {};
  const field = ['command', 'cmd'].find((k) => k in props) ?? 'command';
  out[field] = props[field]?.type === 'array' ? ['bash', '-lc', command] : command;
  if ('description' in props) out.description = 'Print the note file';
  return out;
}

function pathArguments(schema: Record<string, unknown>, path: string): Record<string, unknown> {
  const props = properties(schema);
  const field = ['file_path', 'absolute_path', 'path', 'filePath'].find((k) => k in props) ?? 'path';
  return { [field]: path };
}

/**
 * The image's absolute path: image tools want one, and the clients state their working folder in the system
 * prompt (Claude Code "Primary working directory: …", Codex `<cwd>…</cwd>`). A hint from the test wins.
 */
function cwdPath(rawBody: string, cwdHint?: string): string {
  if (cwdHint) return join(cwdHint, IMAGE_FILE);
  const m = /(?:Primary working directory|Working directory|<cwd>)[:\s]*((?:\/[\w.@+-]+)+)/.exec(rawBody);
  return m ? `${m[1]}/${IMAGE_FILE}` : IMAGE_FILE;
}

/** Tools offered by a request of any of the wire formats we see (Anthropic, OpenAI Chat/Ollama, Responses). */
export function offeredTools(body: Record<string, unknown>): OfferedTool[] {
  const out: OfferedTool[] = [];
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const t of list as Record<string, unknown>[]) {
      if (!t || typeof t !== 'object') continue;
      const fn = t.function as Record<string, unknown> | undefined;
      if (fn && typeof fn.name === 'string') out.push({ name: fn.name, schema: asObject(fn.parameters) });
      else if (typeof t.name === 'string' && (t.input_schema || t.parameters)) out.push({ name: t.name, schema: asObject(t.input_schema ?? t.parameters) });
      if (Array.isArray(t.tools)) walk(t.tools);
    }
  };
  walk(body.tools);
  return out;
}

function asObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}
