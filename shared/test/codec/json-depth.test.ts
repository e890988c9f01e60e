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
