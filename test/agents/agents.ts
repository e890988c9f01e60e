import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bundleDir, type Bundle } from './cache.js';
import { AGENTS, type AgentName } from './pins.js';
import type { ScenarioKind } from './scenario.js';

/** Where one agent run points and what it is asked. */
export interface AgentTarget {
  /** Gateway (or capture responder) origin, `http://127.0.0.1:port`, no `/v1`. */
  origin: string;
  apiKey: string;
  /** The deployment name: what the agent sends as `model`. */
  model: string;
}

/** A prepared command line: what to spawn, with which environment, and how to read the final answer. */
export interface AgentCommand {
  command: string;
  args: string[];
  /** Agent-specific variables only; the runner adds the clean base environment. */
  env: Record<string, string>;
  /** The agent's final message, from its output. */
  answer(stdout: string): Promise<string>;
}

/** How to drive one coding agent non-interactively (the settings the README's agent section shows). */
export interface AgentSpec {
  name: AgentName;
  bundle: Bundle;
  /** The caller API it speaks: where its fixtures go. */
  protocol: 'anthropic-messages' | 'openai-responses' | 'openai-chat';
  /** What it is run on: the plain prompt and the shell tool loop, and an image tool result where it has one. */
  scenarios: readonly ScenarioKind[];
  prepare(target: AgentTarget, prompt: string, home: string): Promise<AgentCommand>;
}

const API_KEY_VAR = 'TOKIOS_API_KEY';

const bin = (b: Bundle, rel: string): string => join(bundleDir(b), 'node_modules', rel);

async function writeFileDeep(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** Claude Code's `--output-format json`: the last stdout line is `{type:"result", result, is_error, …}`. */
function claudeResult(stdout: string): string {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let v: { result?: unknown; is_error?: unknown; subtype?: unknown };
  try {
    v = JSON.parse(line) as typeof v;
  } catch {
    throw new Error(`claude printed no JSON result: ${stdout.slice(-500)}`);
  }
  if (v.is_error !== false || typeof v.result !== 'string') throw new Error(`claude reported an error (${String(v.subtype)}): ${String(v.result).slice(0, 500)}`);
  return v.result;
}

export const AGENT_SPECS = {
  'claude-code': {
    name: 'claude-code',
    bundle: AGENTS['claude-code'],
    protocol: 'anthropic-messages',
    scenarios: ['text', 'tool-loop', 'tool-image'],
    async prepare(t, prompt) {
      return {
        command: bin(AGENTS['claude-code'], '.bin/claude'),
        // Bash and Read are allowed up front: in -p mode nobody is there to approve a tool.
        args: ['-p', prompt, '--output-format', 'json', '--allowedTools', 'Bash', 'Read'],
        env: {
          ANTHROPIC_BASE_URL: t.origin,
          ANTHROPIC_API_KEY: t.apiKey,
          ANTHROPIC_MODEL: t.model,
          ANTHROPIC_SMALL_FAST_MODEL: t.model,
          ANTHROPIC_DEFAULT_HAIKU_MODEL: t.model,
          ANTHROPIC_DEFAULT_SONNET_MODEL: t.model,
          ANTHROPIC_DEFAULT_OPUS_MODEL: t.model,
          CLAUDE_CODE_SUBAGENT_MODEL: t.model,
          // Offline and quiet: no telemetry, updates or error reports (privacy settings, not compatibility ones).
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_TELEMETRY: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_ERROR_REPORTING: '1',
        },
        answer: async (stdout) => claudeResult(stdout),
      };
    },
  },
  codex: {
    name: 'codex',
    bundle: AGENTS.codex,
    protocol: 'openai-responses',
    scenarios: ['text', 'tool-loop', 'tool-image'],
    async prepare(t, prompt, home) {
      const codexHome = join(home, '.codex');
      const out = join(home, 'codex-last-message.txt');
      await writeFileDeep(join(codexHome, 'config.toml'), codexConfig(t));
      return {
        command: process.execPath,
        args: [bin(AGENTS.codex, '@openai/codex/bin/codex.js'), 'exec', '--skip-git-repo-check', '--color', 'never', '-o', out, prompt],
        env: { CODEX_HOME: codexHome, [API_KEY_VAR]: t.apiKey },
        answer: async () => (await readFile(out, 'utf8')).trim(),
      };
    },
  },
  opencode: {
    name: 'opencode',
    bundle: AGENTS.opencode,
    protocol: 'openai-chat',
    scenarios: ['text', 'tool-loop'],
    async prepare(t, prompt, home) {
      const config = join(home, 'opencode.json');
      await writeFileDeep(config, `${JSON.stringify(opencodeConfig(t), null, 2)}\n`);
      return {
        command: bin(AGENTS.opencode, '.bin/opencode'),
        args: ['run', '-m', `tokios/${t.model}`, prompt],
        env: {
          OPENCODE_CONFIG: config,
          [API_KEY_VAR]: t.apiKey,
          OPENCODE_DISABLE_AUTOUPDATE: '1',
          OPENCODE_DISABLE_MODELS_FETCH: '1',
          OPENCODE_DISABLE_SHARE: '1',
          OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
          OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
          OPENCODE_DISABLE_CLAUDE_CODE: '1',
        },
        answer: async (stdout) => stdout.trim(),
      };
    },
  },
  'qwen-code': {
    name: 'qwen-code',
    bundle: AGENTS['qwen-code'],
    protocol: 'openai-chat',
    scenarios: ['text', 'tool-loop'],
    async prepare(t, prompt, home) {
      await writeFileDeep(join(home, '.qwen', 'settings.json'), `${JSON.stringify(qwenSettings(), null, 2)}\n`);
      return {
        command: bin(AGENTS['qwen-code'], '.bin/qwen'),
        args: [prompt, '--yolo'],
        env: { OPENAI_BASE_URL: `${t.origin}/v1`, OPENAI_API_KEY: t.apiKey, OPENAI_MODEL: t.model },
        answer: async (stdout) => stdout.trim(),
      };
    },
  },
} as const satisfies Record<AgentName, AgentSpec>;

/** `$CODEX_HOME/config.toml`: a provider for the gateway (Codex 0.17x speaks only the Responses API), analytics off. */
export function codexConfig(t: AgentTarget): string {
  return [
    `model = "${t.model}"`,
    'model_provider = "tokios"',
    '',
    '[model_providers.tokios]',
    'name = "Tokios"',
    `base_url = "${t.origin}/v1"`,
    `env_key = "${API_KEY_VAR}"`,
    'wire_api = "responses"',
    '',
    '[analytics]',
    'enabled = false',
    '',
  ].join('\n');
}

/** opencode's config: the gateway as an OpenAI-compatible provider, the shell tool allowed without asking. */
export function opencodeConfig(t: AgentTarget): Record<string, unknown> {
  return {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      tokios: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Tokios',
        options: { baseURL: `${t.origin}/v1`, apiKey: `{env:${API_KEY_VAR}}` },
        models: { [t.model]: { name: t.model } },
      },
    },
    model: `tokios/${t.model}`,
    permission: { bash: 'allow' },
    autoupdate: false,
    share: 'disabled',
  };
}

/** `~/.qwen/settings.json`: OpenAI-compatible auth from the environment, telemetry and update checks off. */
export function qwenSettings(): Record<string, unknown> {
  return {
    security: { auth: { selectedType: 'openai' } },
    telemetry: { enabled: false },
    privacy: { usageStatisticsEnabled: false },
    general: { disableAutoUpdate: true, disableUpdateNag: true },
  };
}
