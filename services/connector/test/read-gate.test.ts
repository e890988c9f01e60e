import t from 'tap';
import { PassThrough } from 'node:stream';
import { ReadGate } from '../src/read-gate.js';

t.test('a held answer is not read until released; a lease that is not renewed ends by itself', async (t) => {
  let expire!: () => void;
  const expired = new Promise<void>((r) => (expire = r));
  const gate = new ReadGate(() => expire());
  const res = new PassThrough();
  res.on('data', () => undefined);
  gate.attach(res);
  t.ok(gate.hold(60_000), 'a first hold starts one');
  t.notOk(gate.hold(60_000), 'a renewal is not a new hold');
  t.ok(res.isPaused(), 'held: paused');
  t.ok(gate.release(), 'released');
  t.notOk(res.isPaused(), 'reading again');
  t.notOk(gate.release(), 'releasing twice changes nothing');

  gate.hold(20); // an Unpause that never comes
  t.ok(res.isPaused());
  await expired;
  t.notOk(gate.held, 'the lease ran out');
  t.notOk(res.isPaused(), 'the answer is read again: a lost Unpause cannot wedge the stream');
  gate.close();
});

t.test('a full tunnel and a held caller each keep the answer paused; it resumes when neither holds', async (t) => {
  const gate = new ReadGate(() => undefined);
  const res = new PassThrough();
  res.on('data', () => undefined);
  await new Promise((r) => setImmediate(r)); // the 'resume' event of the data listener above is behind us
  let buffered = 100;
  gate.hold(60_000);
  gate.attach(res);
  t.ok(res.isPaused(), 'held before the answer arrived: paused from the start');
  gate.waitForTunnel(() => buffered, 10);
  gate.release();
  t.ok(res.isPaused(), 'released, but the tunnel is still full');
  buffered = 0;
  await new Promise<void>((r) => res.once('resume', () => r()));
  t.notOk(res.isPaused(), 'the tunnel drained and no caller holds it: reading again');
  gate.hold(60_000);
  t.ok(res.isPaused(), 'held again');
  gate.close();
});
