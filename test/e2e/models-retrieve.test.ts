/**
 * GET /v1/models and GET /v1/models/{id} in both APIs' shapes, read by the official SDKs: OpenAI's models.list() and
 * models.retrieve(), Anthropic's models.list() and models.retrieve() (Claude Code looks its model up this way).
 */
import t from 'tap';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startDevStack, type DevStack } from '../support/index.js';

let stack: DevStack;
t.before(async () => {
  stack = await startDevStack(['model-a', 'model-b']);
});
t.teardown(() => stack?.close());

const origin = () => stack.baseURL.replace(/\/v1$/, '');

t.test('OpenAI SDK: list and retrieve; an unknown id is a 404 in OpenAI shape', async (t) => {
  const openai = new OpenAI({ apiKey: stack.seeded.apiKey, baseURL: stack.baseURL, maxRetries: 0 });
  const list = [];
  for await (const m of openai.models.list()) list.push(m.id);
  t.same(list.sort(), ['model-a', 'model-b']);
  const one = await openai.models.retrieve('model-b');
  t.match(one, { id: 'model-b', object: 'model', owned_by: 'you', online: false });
  t.type(one.created, 'number');
  const err = await openai.models.retrieve('nope').catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.NotFoundError, '404');
  t.match((err as InstanceType<typeof OpenAI.NotFoundError>).error, { type: 'invalid_request_error', code: 'model_not_found' });
});

t.test('Anthropic SDK: list and retrieve (x-api-key or Bearer); an unknown id is a 404 in Anthropic shape', async (t) => {
  for (const anthropic of [
    new Anthropic({ apiKey: stack.seeded.apiKey, baseURL: origin(), maxRetries: 0 }),
    new Anthropic({ apiKey: null, authToken: stack.seeded.apiKey, baseURL: origin(), maxRetries: 0 }),
  ]) {
    const list = [];
    for await (const m of anthropic.models.list()) list.push(m.id);
    t.same(list.sort(), ['model-a', 'model-b']);
    const one = await anthropic.models.retrieve('model-a');
    t.match(one, { type: 'model', id: 'model-a', display_name: 'model-a' });
    t.ok(!Number.isNaN(Date.parse(one.created_at)), 'created_at is a date');
    const err = await anthropic.models.retrieve('nope').catch((e: unknown) => e);
    t.ok(err instanceof Anthropic.NotFoundError, '404');
    t.match((err as InstanceType<typeof Anthropic.NotFoundError>).error, { type: 'error', error: { type: 'not_found_error' } });
  }
});

t.test('without a key: 401 in the caller shape', async (t) => {
  const r = await fetch(`${stack.baseURL}/models/model-a`, { headers: { 'anthropic-version': '2023-06-01' } });
  t.equal(r.status, 401);
  t.match(await r.json(), { type: 'error', error: { type: 'authentication_error' } });
});
