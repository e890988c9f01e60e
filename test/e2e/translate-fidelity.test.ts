/**
 * Answer fidelity through the real chain with the official SDKs: structured output (OpenAI `response_format`,
 * Responses `text.format`) on both upstream kinds.
 */
import t from 'tap';
import { OLLAMA_DEP, OPENAI_DEP, defaultOllamaScript, defaultScript, startTranslateStack, type TranslateStack } from '../support/index.js';

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

const CITY_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const JSON_PIECES = ['{"city":', ' "Paris"}'];

t.test('structured output: OpenAI Chat response_format json_schema -> Ollama format (the schema), parsed by the SDK', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: JSON_PIECES });
  const res = await s.clients.openai.chat.completions.parse({
    model: OLLAMA_DEP,
    messages: [{ role: 'user', content: 'Where?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA, strict: true } },
  });
  t.strictSame(res.choices[0]?.message.parsed, { city: 'Paris' });
  t.strictSame(s.ollama.last.body['format'], CITY_SCHEMA);

  const stream = await s.clients.openai.chat.completions.create({
    model: OLLAMA_DEP,
    messages: [{ role: 'user', content: 'Where?' }],
    response_format: { type: 'json_object' },
    stream: true,
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  t.strictSame(JSON.parse(text), { city: 'Paris' });
  t.equal(s.ollama.last.body['format'], 'json');
});

t.test('structured output: OpenAI Chat passthrough sends response_format to the OpenAI-compatible server as is', async (t) => {
  s.openai.script = () => ({ ...defaultScript(), chunks: JSON_PIECES });
  const format = { type: 'json_schema' as const, json_schema: { name: 'place', schema: CITY_SCHEMA, strict: true } };
  const res = await s.clients.openai.chat.completions.parse({ model: OPENAI_DEP, messages: [{ role: 'user', content: 'Where?' }], response_format: format });
  t.strictSame(res.choices[0]?.message.parsed, { city: 'Paris' });
  t.strictSame(s.openai.last.body['response_format'], format);
});

t.test('structured output: Responses text.format json_schema / json_object -> Ollama format and OpenAI response_format', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: JSON_PIECES });
  s.openai.script = () => ({ ...defaultScript(), chunks: JSON_PIECES });
  const format = { type: 'json_schema' as const, name: 'place', schema: CITY_SCHEMA, strict: true };
  const ollama = await s.clients.openai.responses.parse({ model: OLLAMA_DEP, input: 'Where?', text: { format } });
  t.strictSame(ollama.output_parsed, { city: 'Paris' });
  t.strictSame(s.ollama.last.body['format'], CITY_SCHEMA);

  const streamed = s.clients.openai.responses.stream({ model: OPENAI_DEP, input: 'Where?', text: { format } });
  const final = await streamed.finalResponse();
  // The SDK's stream parses only zod-made formats (output_parsed stays null for a plain schema): read the text.
  t.strictSame(JSON.parse(final.output_text), { city: 'Paris' });
  t.strictSame(s.openai.last.body['response_format'], { type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA, strict: true } });

  const loose = await s.clients.openai.responses.create({ model: OPENAI_DEP, input: 'Where?', text: { format: { type: 'json_object' } } });
  t.strictSame(JSON.parse(loose.output_text), { city: 'Paris' });
  t.strictSame(s.openai.last.body['response_format'], { type: 'json_object' });
});
