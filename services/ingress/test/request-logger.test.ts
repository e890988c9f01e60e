import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LazyRequestLogger } from '../src/request-logger.js';

function capture(level: string): { log: pino.Logger; lines: Record<string, unknown>[]; children: () => number } {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  let made = 0;
  const log = pino({ level, onChild: () => made++ }, out);
  return { log, lines, children: () => made };
}

t.test('the request logger writes what a pino child writes, bindings included, and is made only for a written line', async (t) => {
  const { log, lines, children } = capture('warn');
  const rl = new LazyRequestLogger(log, { reqId: 'req_1' }, {});
  rl.info({ a: 1 }, 'not written at warn');
  rl.debug('nor this');
  t.equal(children(), 0, 'no child for lines below the level');
  t.equal(rl.level, 'warn');
  rl.warn({ callId: 'c1' }, 'written');
  rl.error('also written');
  t.equal(children(), 1, 'one child, made for the first written line');
  t.match(lines, [{ level: 40, reqId: 'req_1', callId: 'c1', msg: 'written' }, { level: 50, reqId: 'req_1', msg: 'also written' }]);
});

t.test('levels: the route option, a level set later, and silent', async (t) => {
  const { log, lines } = capture('info');
  const quiet = new LazyRequestLogger(log, { reqId: 'req_2' }, { level: 'error' });
  quiet.warn('below the route level');
  t.equal(quiet.level, 'error');
  quiet.error('at it');
  t.equal(lines.length, 1);
  const rl = new LazyRequestLogger(log, { reqId: 'req_3' }, {});
  rl.level = 'silent';
  rl.fatal('nothing at silent');
  t.equal(lines.length, 1);
  rl.level = 'debug';
  rl.debug('now written');
  t.match(lines.at(-1), { reqId: 'req_3', msg: 'now written' });
  rl.child({ x: 1 }).info('from a child of it');
  t.match(lines.at(-1), { reqId: 'req_3', x: 1, msg: 'from a child of it' });
});
