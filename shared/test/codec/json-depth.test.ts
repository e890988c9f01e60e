import t from 'tap';
import { MAX_JSON_DEPTH, jsonDeeperThan } from '../../src/codec/index.js';

const b = (s: string) => Buffer.from(s, 'utf8');

t.test('jsonDeeperThan counts nesting outside strings only', async (t) => {
  t.notOk(jsonDeeperThan(b('{"a":[1,{"b":[]}]}'), 4));
  t.ok(jsonDeeperThan(b('{"a":[1,{"b":[]}]}'), 3));
  t.notOk(jsonDeeperThan(b(`{"s":"${'['.repeat(1000)}"}`)), 'brackets inside a string do not count');
  t.notOk(jsonDeeperThan(b(`{"s":"\\"${'{'.repeat(1000)}"}`)), 'an escaped quote does not end the string');
  t.ok(jsonDeeperThan(b(`{"s":"\\\\"${',['.repeat(200)}`)), 'an escaped backslash does end it');
  t.notOk(jsonDeeperThan(b(`{"é✓":"${'{'.repeat(500)}"}`)), 'multi-byte UTF-8 is scanned exactly');
  t.notOk(jsonDeeperThan(b(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)), 'the limit itself is allowed');
  t.ok(jsonDeeperThan(b('['.repeat(3_000_000))), '3,000,000 deep is refused (stops at the first level past the limit)');
  t.notOk(jsonDeeperThan(b('[]'.repeat(100_000))), 'wide is fine');
});

/** The byte-by-byte scan jsonDeeperThan replaced (every byte walked, strings too): the reference it must agree with. */
function walked(bytes: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

t.test('jsonDeeperThan agrees with a byte-by-byte walk on long strings, escape runs and random text', async (t) => {
  const samples: string[] = [
    `{"s":"${'x'.repeat(40)}\\"${'['.repeat(200)}"}`,
    `{"s":"${'x'.repeat(40)}\\\\"${'['.repeat(200)}`,
    `{"s":"${'\\'.repeat(31)}"${'['.repeat(200)}"}`,
    `{"s":"${'\\'.repeat(32)}"${'['.repeat(200)}`,
    `{"s":"${'x'.repeat(15)}\\"${'{'.repeat(200)}"}`,
    `{"s":"${'x'.repeat(14)}\\"${'{'.repeat(200)}"}`,
    `{"s":"${'x'.repeat(16)}\\"${'{'.repeat(200)}"}`,
    `{"s":"${'é'.repeat(100)}"${'['.repeat(200)}`,
    `["${'x'.repeat(300)}`,
    `["${'x'.repeat(300)}\\`,
    `${'["a",'.repeat(129)}`,
    `${'["a",'.repeat(128)}`,
  ];
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const alphabet = ['"', '\\', '[', ']', '{', '}', 'x', ',', 'é', '\\\\', '\\"'];
  for (let s = 0; s < 3000; s++) {
    let text = '';
    const len = 100 + rnd(400);
    while (text.length < len) text += alphabet[rnd(alphabet.length)]!;
    samples.push(text);
  }
  let deeper = 0;
  for (const text of samples) {
    const bytes = Buffer.from(text, 'utf8');
    for (const max of [MAX_JSON_DEPTH, 2, 8]) {
      const want = walked(bytes, max);
      if (want) deeper++;
      if (jsonDeeperThan(bytes, max) !== want) t.fail(`disagrees at max ${max}: ${JSON.stringify(text.slice(0, 120))}`);
    }
  }
  t.ok(deeper > 100, `both sides seen (${deeper} deeper of ${samples.length * 3})`);
  t.notOk(jsonDeeperThan(b('['.repeat(MAX_JSON_DEPTH))), 'a text no longer than the limit is not deeper');
  t.ok(jsonDeeperThan(b('['.repeat(MAX_JSON_DEPTH + 1))));
});
