import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleDir, type Bundle } from './cache.js';
import { SDKS } from './pins.js';
import type { Scenario } from './scenario.js';

/**
 * The SDK callers of the fixture corpus: the Vercel AI SDK's providers and LangChain JS's chat models, loaded
 * from the client cache (they are not workspace dependencies), each driven through text, stream and tool-loop
 * calls the way an application would use it. Their tool runs in-process and answers with the scenario's note.
 */
export interface SdkCaller {
  /** Fixture name: `<caller>@<version of the package that builds the request>`. */
  id: string;
  bundle: Bundle;
  protocol: 'anthropic-messages' | 'openai-responses' | 'openai-chat';
  /** The packages of the bundle it imports (see preload). */
  modules: readonly string[];
  /** Runs one scenario against the origin (no `/v1`) with that API key; resolves with the final text. */
  run(origin: string, apiKey: string, model: string, mode: SdkMode, scenario: Scenario): Promise<string>;
}

export const SDK_MODES = ['text', 'stream', 'tool-loop'] as const;
export type SdkMode = (typeof SDK_MODES)[number];

/** ESM import of a package installed in a cache bundle. */
async function load<T>(b: Bundle, name: string): Promise<T> {
  const req = createRequire(join(bundleDir(b), 'package.json'));
  // The CommonJS entry is what require.resolve finds; both builds send the same requests.
  return (await import(pathToFileURL(req.resolve(name)).href)) as T;
}

/* Only the few members used here, typed loosely: the packages' own types are not in the workspace. */
interface AiModule {
  generateText(o: Record<string, unknown>): Promise<{ text: string }>;
  streamText(o: Record<string, unknown>): { textStream: AsyncIterable<string>; text: PromiseLike<string> };
  tool(o: Record<string, unknown>): unknown;
  jsonSchema(s: Record<string, unknown>): unknown;
  stepCountIs(n: number): unknown;
}
type ProviderFactory = (o: Record<string, unknown>) => ((model: string) => unknown) & Record<string, (model: string) => unknown>;

const NOTE_TOOL = { name: 'bash', description: 'Run a shell command', schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };

async function aiSdk(model: unknown, mode: SdkMode, scenario: Scenario): Promise<string> {
  // The SDK warns on stderr about model ids it does not know (every deployment name); nothing to act on here.
  (globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
  const ai = await load<AiModule>(SDKS['ai-sdk'], 'ai');
  if (mode === 'text') return (await ai.generateText({ model, prompt: scenario.prompt, maxRetries: 0 })).text;
  const tools = mode === 'tool-loop'
    ? { [NOTE_TOOL.name]: ai.tool({ description: NOTE_TOOL.description, inputSchema: ai.jsonSchema(NOTE_TOOL.schema), execute: async () => scenario.expected }) }
    : undefined;
  const r = ai.streamText({ model, prompt: scenario.prompt, tools, stopWhen: ai.stepCountIs(3), maxRetries: 0 });
  let text = '';
  for await (const piece of r.textStream) text += piece;
  return text;
}

interface LcMessage { content: unknown; tool_calls?: { id?: string; name: string; args: unknown }[]; concat?(o: LcMessage): LcMessage }
interface LcModel {
  invoke(input: unknown): Promise<LcMessage>;
  stream(input: unknown): Promise<AsyncIterable<LcMessage>>;
  bindTools(tools: unknown[]): LcModel;
}
type LcCtor = new (o: Record<string, unknown>) => LcModel;

async function langchain(make: () => Promise<LcModel>, mode: SdkMode, scenario: Scenario): Promise<string> {
  const { HumanMessage, ToolMessage } = await load<{ HumanMessage: new (c: string) => unknown; ToolMessage: new (o: Record<string, unknown>) => unknown }>(SDKS.langchain, '@langchain/core/messages');
  const model = await make();
  // Content is a string, or (Responses API, Anthropic) a list of parts of which the text ones count.
  const text = (m: LcMessage): string =>
    typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('') : '';
  if (mode === 'text') return text(await model.invoke([new HumanMessage(scenario.prompt)]));
  if (mode === 'stream') {
    let out = '';
    for await (const chunk of await model.stream([new HumanMessage(scenario.prompt)])) out += text(chunk);
    return out;
  }
  const withTools = model.bindTools([{ type: 'function', function: { name: NOTE_TOOL.name, description: NOTE_TOOL.description, parameters: NOTE_TOOL.schema } }]);
  const history: unknown[] = [new HumanMessage(scenario.prompt)];
  const first = await withTools.invoke(history);
  history.push(first);
  for (const call of first.tool_calls ?? []) history.push(new ToolMessage({ content: scenario.expected, tool_call_id: call.id ?? '', name: call.name }));
  return text(await withTools.invoke(history));
}

const ai = SDKS['ai-sdk'];
const lc = SDKS.langchain;
export const SDK_CALLERS: SdkCaller[] = [
  {
    id: 'ai-sdk-openai-chat@4.0.118', bundle: ai, protocol: 'openai-chat', modules: ['ai', '@ai-sdk/openai'],
    run: async (origin, apiKey, model, mode, s) => aiSdk((await provider('@ai-sdk/openai', 'createOpenAI', { baseURL: `${origin}/v1`, apiKey })).chat!(model), mode, s),
  },
  {
    id: 'ai-sdk-openai-responses@4.0.118', bundle: ai, protocol: 'openai-responses', modules: ['ai', '@ai-sdk/openai'],
    run: async (origin, apiKey, model, mode, s) => aiSdk((await provider('@ai-sdk/openai', 'createOpenAI', { baseURL: `${origin}/v1`, apiKey })).responses!(model), mode, s),
  },
  {
    id: 'ai-sdk-anthropic@4.0.105', bundle: ai, protocol: 'anthropic-messages', modules: ['ai', '@ai-sdk/anthropic'],
    run: async (origin, apiKey, model, mode, s) => aiSdk((await provider('@ai-sdk/anthropic', 'createAnthropic', { baseURL: `${origin}/v1`, apiKey }))(model), mode, s),
  },
  {
    id: 'ai-sdk-openai-compatible@3.0.92', bundle: ai, protocol: 'openai-chat', modules: ['ai', '@ai-sdk/openai-compatible'],
    run: async (origin, apiKey, model, mode, s) =>
      aiSdk((await provider('@ai-sdk/openai-compatible', 'createOpenAICompatible', { name: 'tokios', baseURL: `${origin}/v1`, apiKey }))(model), mode, s),
  },
  {
    id: 'langchain-openai-chat@1.6.0', bundle: lc, protocol: 'openai-chat', modules: ['@langchain/core/messages', '@langchain/openai'],
    run: (origin, apiKey, model, mode, s) => langchain(async () => new (await ctor(lc, '@langchain/openai', 'ChatOpenAI'))({ model, apiKey, configuration: { baseURL: `${origin}/v1` }, maxRetries: 0 }), mode, s),
  },
  {
    id: 'langchain-openai-responses@1.6.0', bundle: lc, protocol: 'openai-responses', modules: ['@langchain/core/messages', '@langchain/openai'],
    run: (origin, apiKey, model, mode, s) =>
      langchain(async () => new (await ctor(lc, '@langchain/openai', 'ChatOpenAI'))({ model, apiKey, configuration: { baseURL: `${origin}/v1` }, useResponsesApi: true, maxRetries: 0 }), mode, s),
  },
  {
    id: 'langchain-anthropic@1.5.11', bundle: lc, protocol: 'anthropic-messages', modules: ['@langchain/core/messages', '@langchain/anthropic'],
    run: (origin, apiKey, model, mode, s) => langchain(async () => new (await ctor(lc, '@langchain/anthropic', 'ChatAnthropic'))({ model, apiKey, anthropicApiUrl: origin, maxRetries: 0 }), mode, s),
  },
];

/**
 * Imports a caller's packages ahead of its runs. The first import of these module trees is seconds of synchronous
 * work; done while a test's in-process gateway serves tunnels, it stalls their heartbeats and the tunnels are
 * dropped as dead. Later imports come from the module cache.
 */
export async function preload(c: SdkCaller): Promise<void> {
  for (const m of c.modules) await load(c.bundle, m);
}

/** An AI SDK provider (`createOpenAI(settings)` and friends). */
async function provider(pkg: string, name: string, settings: Record<string, unknown>): Promise<ReturnType<ProviderFactory>> {
  return ((await load<Record<string, unknown>>(ai, pkg))[name] as ProviderFactory)(settings);
}

async function ctor(b: Bundle, pkg: string, name: string): Promise<LcCtor> {
  return (await load<Record<string, unknown>>(b, pkg))[name] as LcCtor;
}
