import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import Fastify, { LogController } from 'fastify';
import { LazyRequestLogger, requestLoggerFactory } from '../src/request-logger.js';

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

/** A one-route app; returns its request.log lines and how many 'finish' / 'error' listeners its response had. */
async function oneRequest(withInstance: boolean): Promise<{ lines: Record<string, unknown>[]; listeners: number; status: number }> {
  const { log, lines } = capture('info');
  const logging = withInstance ? { loggerInstance: log } : { childLoggerFactory: requestLoggerFactory(log) };
  const app = Fastify({ logController: new LogController({ disableRequestLogging: true }), ...logging });
  let listeners = -1;
  app.post('/x', (request, reply) => {
    request.log.info({ callId: 'c9' }, 'from the handler');
    listeners = reply.raw.listenerCount('finish') + reply.raw.listenerCount('error');
    reply.send('ok');
  });
  const res = await app.inject({ method: 'POST', url: '/x', payload: 'b', headers: { 'content-type': 'text/plain' } });
  await app.close();
  return { lines, listeners, status: res.statusCode };
}

t.test('an app without loggerInstance: request.log writes to our logger, and Fastify adds no response listeners', async (t) => {
  const without = await oneRequest(false);
  const withInstance = await oneRequest(true);
  t.equal(without.status, 200);
  t.match(without.lines, [{ level: 30, reqId: 'req-1', callId: 'c9', msg: 'from the handler' }], 'the line, request id bound');
  const stable = (lines: Record<string, unknown>[]) => lines.map(({ time: _t, pid: _p, hostname: _h, ...l }) => l);
  t.same(stable(without.lines), stable(withInstance.lines), 'the same line as with loggerInstance');
  t.equal(without.listeners, withInstance.listeners - 2, "two 'finish' / 'error' listeners fewer on every response");
});

t.test("the factory's loggers follow their parent's level as it changes, not a child's own", async (t) => {
  const { log, lines } = capture('warn');
  const make = requestLoggerFactory(log);
  const rl = make(log, { reqId: 'req_4' }, {});
  t.equal(rl.level, 'warn');
  rl.info('below warn');
  t.equal(lines.length, 0);
  log.level = 'info';
  t.equal(rl.level, 'info', 'a level set on the parent later');
  rl.info('now written');
  t.match(lines.at(-1), { reqId: 'req_4', msg: 'now written' });
  const other = make(log, { reqId: 'req_5' }, {});
  other.level = 'error'; // its own pino child changes level: the parent and the other request loggers do not
  t.equal(other.level, 'error');
  t.equal(rl.level, 'info');
  t.equal(make(log, { reqId: 'req_6' }, {}).level, 'info');
  log.child({ x: 1 }).level = 'fatal';
  t.equal(rl.level, 'info', "a child of the parent made elsewhere changes only its own level");
  log.level = 'silent';
  rl.error('nothing at silent');
  t.equal(lines.length, 1);
});
