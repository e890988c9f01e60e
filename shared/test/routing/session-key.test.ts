import t from 'tap';
import { sessionKey } from '../../src/routing/index.js';

const scope = 'ten_a/dep_1';

t.test('a client-named session wins, in order: prompt_cache_key, header, metadata.user_id, user', async (t) => {
  const body = { prompt_cache_key: 'pck', metadata: { user_id: 'u' }, user: 'x', messages: [] };
  t.equal(sessionKey('openai.responses', body, { 'session-id': 's' }, scope).source, 'prompt_cache_key');
  t.equal(sessionKey('openai.chat', { user: 'x' }, { 'x-session-affinity': 'a' }, scope).source, 'header');
  t.equal(sessionKey('anthropic.messages', { metadata: { user_id: 'u' }, user: 'x' }, {}, scope).source, 'metadata.user_id');
  t.equal(sessionKey('openai.chat', { user: 'x', messages: [] }, {}, scope).source, 'user');
  t.equal(sessionKey('anthropic.messages', {}, { 'x-claude-code-session-id': 'c' }, scope).source, 'header');
});

t.test('the key is a digest scoped to tenant and deployment, never the client value', async (t) => {
  const a = sessionKey('openai.chat', { prompt_cache_key: 'same' }, {}, 'ten_a/dep_1');
  const b = sessionKey('openai.chat', { prompt_cache_key: 'same' }, {}, 'ten_b/dep_1');
  t.match(a.key, /^[0-9a-f]{32}$/);
  t.not(a.key, b.key, 'two tenants with the same value get different sessions');
  t.equal(a.key, sessionKey('openai.responses', { prompt_cache_key: 'same' }, {}, 'ten_a/dep_1').key, 'stable');
});

t.test('no named session: the leading messages, the same over the turns of one conversation', async (t) => {
  const system = { role: 'system', content: 'You are a coding agent.' };
  const first = { role: 'user', content: 'Fix the bug in main.ts' };
  const turn1 = sessionKey('openai.chat', { messages: [system, first] }, {}, scope);
  const turn3 = sessionKey('openai.chat', { messages: [system, first, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'and the test' }] }, {}, scope);
  const other = sessionKey('openai.chat', { messages: [system, { role: 'user', content: 'Write a README' }] }, {}, scope);
  t.equal(turn1.source, 'prefix');
  t.equal(turn1.key, turn3.key, 'later turns stay home');
  t.not(turn1.key, other.key, 'another conversation is another session');
  const a1 = sessionKey('anthropic.messages', { system: 'sys', messages: [first] }, {}, scope);
  const a2 = sessionKey('anthropic.messages', { system: 'sys', messages: [first, { role: 'assistant', content: 'x' }] }, {}, scope);
  t.equal(a1.key, a2.key);
  t.equal(sessionKey('openai.embeddings', { input: 'x' }, {}, scope).source, 'none', 'embeddings have no session');
});
