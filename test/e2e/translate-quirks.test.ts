/**
 * Every upstream quirk × every caller entry point (openai chat.completions.create / .stream, responses.create /
 * .stream, anthropic messages.create / .stream), through the real chain. Each row is one scripted upstream answer
 * and the one normalized outcome (or error) every caller must end up with.
 */
import t from 'tap';
import {
  CALLER_MODES,
  OLLAMA_DEP,
  OPENAI_DEP,
  TIME_TOOL,
  WEATHER_TOOL,
  ask,
  defaultOllamaScript,
  defaultScript,
  startTranslateStack,
  type CallerMode,
  type OllamaScript,
  type Outcome,
  type Script,
  type TranslateStack,
} from '../support/index.js';

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

type Expected = Omit<Outcome, 'rawStop' | 'tools'> & { tools: Array<{ name: string; input: unknown }> };
interface Row {
  name: string;
  /** The upstream's script; which upstream it is decides the deployment. */
  ollama?: OllamaScript;
  openai?: Script;
  expect?: Expected;
  /**
   * The call must fail: `status` is the HTTP status of whole answers and of failures before the first byte; a
   * `midStream` failure reaches streamed callers as an error event in their stream instead (no status).
   */
  error?: { status: number; midStream: boolean; message: RegExp };
  /** OpenAI Chat over an OpenAI-compatible upstream is a passthrough: what the SDK sees differs here. */
  passthrough?: Partial<Expected>;
}

const usage = { input: 10, output: 5 };
const openaiBase = (over: Partial<Script>): Script => ({ ...defaultScript(), usage: { prompt_tokens: 10, completion_tokens: 5 }, ...over });
const ollamaBase = (over: Partial<OllamaScript>): OllamaScript => ({ ...defaultOllamaScript(), usage: { prompt_eval_count: 10, eval_count: 5 }, ...over });
const weather = { name: 'get_weather', input: { city: 'Paris' } };
const time = { name: 'get_time', input: { tz: 'UTC' } };
const twoCalls = [
  { id: 'call_w', name: 'get_weather', arguments: '{"city":"Paris"}' },
  { id: 'call_t', name: 'get_time', arguments: '{"tz":"UTC"}' },
];

const rows: Row[] = [
  // OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, SGLang)
  {
    name: 'openai: text then one tool call, arguments streamed in pieces',
    openai: openaiBase({ chunks: ['Let me', ' look.'], toolCalls: [twoCalls[0]!], finishReason: 'tool_calls' }),
    expect: { text: 'Let me look.', reasoning: '', tools: [weather], stop: 'tool', usage },
  },
  {
    name: 'openai: two calls announced first, all arguments only at the end (LM Studio)',
    openai: openaiBase({ chunks: [], toolCalls: twoCalls, toolArgs: 'at-end', finishReason: 'tool_calls' }),
    expect: { text: '', reasoning: '', tools: [weather, time], stop: 'tool', usage },
  },
  {
    // The passthrough too: its line filter applies the same rule (the SDK's chunk loop sees "tool_calls").
    name: 'openai: whole arguments in one chunk, finish_reason stop despite the tool calls',
    openai: openaiBase({ chunks: [], toolCalls: twoCalls, toolArgs: 'whole', finishReason: 'stop' }),
    expect: { text: '', reasoning: '', tools: [weather, time], stop: 'tool', usage },
  },
  {
    name: 'openai: tool_calls: [] on every content chunk (vLLM)',
    openai: openaiBase({ chunks: ['plain', ' text'], emptyToolCalls: true }),
    expect: { text: 'plain text', reasoning: '', tools: [], stop: 'end', usage },
  },
  {
    name: 'openai: usage on every chunk is not summed',
    openai: openaiBase({ chunks: ['a', 'b', 'c', 'd', 'e'], usageEveryChunk: true }),
    expect: { text: 'abcde', reasoning: '', tools: [], stop: 'end', usage },
  },
  {
    name: 'openai: reasoning_content deltas stay out of the text',
    openai: openaiBase({ reasoning: ['Think', 'ing.'], chunks: ['Answer.'], toolCalls: [twoCalls[1]!], finishReason: 'tool_calls' }),
    expect: { text: 'Answer.', reasoning: 'Thinking.', tools: [time], stop: 'tool', usage },
  },
  {
    name: 'openai: finish_reason length',
    openai: openaiBase({ chunks: ['cut'], finishReason: 'length' }),
    expect: { text: 'cut', reasoning: '', tools: [], stop: 'length', usage },
  },
  {
    name: 'openai: mid-stream {"error":{…}} after a 200',
    openai: openaiBase({ chunks: ['par', 'tial'], streamError: { afterChunks: 1, body: { error: { message: 'CUDA out of memory', type: 'server_error' } } } }),
    error: { status: 502, midStream: true, message: /CUDA out of memory/ },
  },
  {
    name: 'openai: mid-stream vLLM {"object":"error"} after a 200',
    openai: openaiBase({ chunks: ['par', 'tial'], streamError: { afterChunks: 1, body: { object: 'error', message: 'CUDA out of memory', type: 'InternalServerError', param: null, code: 500 } } }),
    error: { status: 502, midStream: true, message: /CUDA out of memory/ },
  },
  {
    name: 'openai: HTTP 503 before the stream',
    openai: openaiBase({ fail: { status: 503, body: { object: 'error', message: 'Server is overloaded', type: 'ServiceUnavailableError', param: null, code: 503 } } }),
    error: { status: 503, midStream: false, message: /overloaded/ },
  },
  // Ollama native
  {
    name: 'ollama: text and a tool call on the done line',
    ollama: ollamaBase({ chunks: ['Let me', ' look.'], toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }),
    expect: { text: 'Let me look.', reasoning: '', tools: [weather], stop: 'tool', usage },
  },
  {
    name: 'ollama: two tool calls and done in separate lines (done_reason stop)',
    ollama: ollamaBase({ chunks: [], toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { id: 'call_x', name: 'get_time', arguments: { tz: 'UTC' } }], toolCallLine: 'separate' }),
    expect: { text: '', reasoning: '', tools: [weather, time], stop: 'tool', usage },
  },
  {
    name: 'ollama: message.thinking stays out of the text',
    ollama: ollamaBase({ thinking: ['Think', 'ing.'], chunks: ['Answer.'] }),
    expect: { text: 'Answer.', reasoning: 'Thinking.', tools: [], stop: 'end', usage },
  },
  {
    name: 'ollama: done_reason length',
    ollama: ollamaBase({ chunks: ['cut'], doneReason: 'length' }),
    expect: { text: 'cut', reasoning: '', tools: [], stop: 'length', usage },
  },
  {
    name: 'ollama: prompt_eval_count left out (prompt cached) counts as 0',
    ollama: ollamaBase({ chunks: ['x'], usage: { eval_count: 5 } }),
    expect: { text: 'x', reasoning: '', tools: [], stop: 'end', usage: { input: 0, output: 5 } },
  },
  {
    name: 'ollama: mid-stream {"error":"…"} after a 200',
    ollama: ollamaBase({ chunks: ['par', 'tial'], streamError: { afterChunks: 1, message: 'llama runner process has terminated: CUDA out of memory' } }),
    error: { status: 502, midStream: true, message: /CUDA out of memory/ },
  },
  {
    name: 'ollama: HTTP 500 before the stream',
    ollama: ollamaBase({ fail: { status: 500, body: { error: 'llama runner process has terminated: exit status 2' } } }),
    error: { status: 502, midStream: false, message: /llama runner process has terminated/ },
  },
];

const STREAMED = new Set<CallerMode>(['chat-stream', 'responses-stream', 'anthropic-stream']);

/** What an error looks like to a test, whatever the SDK: status (if HTTP) and every message we can find. */
function describeError(err: unknown): { status: number | undefined; text: string } {
  const e = err as { status?: number; message?: string; error?: unknown; response?: unknown };
  return { status: e.status, text: `${e.message ?? ''} ${JSON.stringify(e.error ?? e.response ?? null)}` };
}

for (const row of rows) {
  t.test(row.name, async (t) => {
    const dep = row.ollama ? OLLAMA_DEP : OPENAI_DEP;
    if (row.ollama) {
      const script = row.ollama;
      s.ollama.script = () => script;
    } else {
      const script = row.openai!;
      s.openai.script = () => script;
    }
    for (const mode of CALLER_MODES) {
      const passthrough = dep === OPENAI_DEP && mode.startsWith('chat');
      const label = `${mode}${passthrough ? ' (passthrough)' : ''}`;
      const got = await ask(mode, s.clients, { model: dep, prompt: 'q', tools: [WEATHER_TOOL, TIME_TOOL] }).then(
        (outcome) => ({ outcome }),
        (err: unknown) => ({ err }),
      );
      if (row.error) {
        if (!('err' in got)) {
          t.fail(`${label}: expected an error, got ${JSON.stringify(got.outcome)}`);
          continue;
        }
        const { status, text } = describeError(got.err);
        const wantStatus = row.error.midStream && STREAMED.has(mode) ? undefined : row.error.status;
        t.equal(status, wantStatus, `${label}: status`);
        t.match(text, row.error.message, `${label}: message`);
        continue;
      }
      if ('err' in got) {
        t.fail(`${label}: ${String((got.err as Error).message ?? got.err)}`);
        continue;
      }
      const want = { ...row.expect!, ...(passthrough ? row.passthrough : {}) };
      const { rawStop, tools, ...rest } = got.outcome;
      t.strictSame(
        { ...rest, tools: tools.map(({ name, input }) => ({ name, input })) },
        want,
        `${label} (stop reason ${rawStop})`,
      );
      t.equal(new Set(tools.map((x) => x.id)).size, tools.length, `${label}: distinct tool ids`);
    }
  });
}
