import t from 'tap';
import { presentedKey } from '../src/auth.js';
import { Lru } from '../src/auth/lru.js';

t.test('presentedKey: a Bearer token (any case, any spaces) or x-api-key, nothing else', async (t) => {
  t.equal(presentedKey({ authorization: 'Bearer sk-1' }), 'sk-1');
  t.equal(presentedKey({ authorization: 'bEaReR \t sk-2  ' }), 'sk-2', 'case and surrounding spaces');
  t.equal(presentedKey({ authorization: 'Bearer    ' }), undefined, 'an empty bearer token is none');
  t.equal(presentedKey({ authorization: 'Bearer    ', 'x-api-key': 'sk-x' }), undefined, 'an empty bearer token does not fall back');
  t.equal(presentedKey({ authorization: 'Bearersk-3' }), undefined, 'no space after the scheme: not a bearer token');
  t.equal(presentedKey({ authorization: 'Basic abc', 'x-api-key': ' sk-4 ' }), 'sk-4', 'another scheme falls back to x-api-key');
  t.equal(presentedKey({ authorization: 'xBearer sk-5' }), undefined, 'the scheme must start the header');
  t.equal(presentedKey({ 'x-api-key': '   ' }), undefined, 'a blank x-api-key is none');
  t.equal(presentedKey({}), undefined);
  // The sticky regex keeps state between calls: a failed match must not leak into the next one.
  t.equal(presentedKey({ authorization: 'Bearer sk-6' }), 'sk-6', 'after a failed match');
});

t.test('Lru: forgets the least recently used first, with the young-end shortcut exact', async (t) => {
  const lru = new Lru<string, number>(3);
  for (const k of ['a', 'b', 'c']) lru.set(k, k.charCodeAt(0));
  t.equal(lru.get('a'), 97, 'a refreshed');
  t.equal(lru.get('a'), 97, 'a hit again while youngest');
  lru.set('d', 100);
  t.same([...lru.values()], [99, 97, 100], 'b, the least recently used, was forgotten');
  t.equal(lru.get('c'), 99);
  lru.set('e', 101);
  t.equal(lru.peek('a'), undefined, 'a went next');
  t.same([...lru.values()], [100, 99, 101]);
  t.ok(lru.delete('e'), 'the youngest deleted');
  t.equal(lru.get('e'), undefined);
  lru.set('e', 1);
  t.equal(lru.get('d'), 100, 'd refreshed after the youngest was deleted and set again');
  lru.set('f', 2);
  t.same([...lru.values()], [1, 100, 2], 'c was the oldest');
  lru.clear();
  t.equal(lru.size, 0);
  lru.set('g', 3);
  t.equal(lru.get('g'), 3, 'works after clear');
});
