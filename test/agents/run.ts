import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AGENT_SPECS, type AgentTarget } from './agents.js';
import { release, reap } from '../support/reaper.js';
import { killGroup } from './cache.js';
import type { AgentName } from './pins.js';
import { newScenario, type Scenario, type ScenarioKind } from './scenario.js';

export interface AgentResult {
  agent: AgentName;
  scenario: Scenario;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** The agent's final message, or the reason it could not be read. */
  answer: string | undefined;
  answerError: string | undefined;
  ms: number;
  /** The run's working folder (removed after the run unless TOKIOS_AGENTS_KEEP=1). */
  cwd: string;
}

/** Hard cap per agent run: a run that hangs is killed, with its whole process group. */
export const AGENT_TIMEOUT_MS = Number(process.env.TOKIOS_AGENTS_RUN_TIMEOUT_MS) || 180_000;

/**
 * The environment an agent starts with: nothing inherited from ours (no keys, base URLs, proxies, npm or CI
 * variables), a fresh HOME with its XDG folders inside, node first on PATH (Qwen Code's bin is a node script).
 */
function baseEnv(home: string): Record<string, string> {
  return {
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    USER: 'tokios',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    SHELL: '/bin/bash',
    TMPDIR: join(home, 'tmp'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
}

/** Runs one agent once on a scenario against `target`, in a fresh temp HOME and working folder. */
export async function runAgent(agent: AgentName, kind: ScenarioKind, target: AgentTarget, onStart?: (cwd: string) => void): Promise<AgentResult> {
  const scenario = newScenario(kind);
  const root = await mkdtemp(join(tmpdir(), `tokios-agent-${agent}-`));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  await Promise.all([mkdir(join(home, 'tmp'), { recursive: true }), mkdir(cwd, { recursive: true })]);
  await scenario.prepare(cwd);
  onStart?.(cwd);
  const cmd = await AGENT_SPECS[agent].prepare(target, scenario.prompt, home);
  const started = Date.now();
  // Its own process group, killed whole afterwards (and by the reaper if this test process is stopped first).
  const child = reap(spawn(cmd.command, cmd.args, { cwd, env: { ...baseEnv(home), ...cmd.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true }), { group: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, AGENT_TIMEOUT_MS);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      stderr += `spawn failed: ${err.message}`;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  // Whatever the agent left behind (shell tools, language servers, helpers) goes with it.
  killGroup(child.pid);
  release(child);
  let answer: string | undefined;
  let answerError: string | undefined;
  try {
    answer = await cmd.answer(stdout);
  } catch (err) {
    answerError = (err as Error).message;
  }
  const result: AgentResult = { agent, scenario, ...exit, timedOut, stdout, stderr, answer, answerError, ms: Date.now() - started, cwd };
  if (process.env.TOKIOS_AGENTS_KEEP !== '1') await rm(root, { recursive: true, force: true });
  return result;
}

/** A few lines about a run for a failure message: exit, answer, and the ends of its output. */
export function describeRun(r: AgentResult): string {
  return [
    `${r.agent} ${r.scenario.kind}: exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''} after ${r.ms} ms`,
    `answer: ${r.answer === undefined ? `none (${r.answerError})` : JSON.stringify(r.answer.slice(0, 400))}`,
    `stdout: ${r.stdout.slice(-1500)}`,
    `stderr: ${r.stderr.slice(-1500)}`,
  ].join('\n');
}
