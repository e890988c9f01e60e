import t from 'tap';
import { MAX_LINK_LAG_MS, STALL_ROUNDS, TerminatorWatch, TerminatorWatches, judgeStall } from '../src/terminator-watch.js';

const STALL = 900;

/** One stream of one terminator, as a call keeps it: fed what was read, judged at any `now`. */
class Stream {
  heardRound: number;
  lastSeen: number;
  constructor(readonly w: TerminatorWatch, now: number) {
    this.heardRound = w.rounds;
    this.lastSeen = now;
  }
  heard(now: number): void {
    this.w.read(now);
    this.lastSeen = now;
    this.heardRound = this.w.rounds;
  }
  /** `linkConfirmedAt`: how far our own NATS link confirmed what was read (a PING answered); up to now by default. */
  judge(now: number, linkConfirmedAt = now): string {
    return judgeStall(this.w, this.heardRound, this.lastSeen, now, STALL, linkConfirmedAt);
  }
}

/** A marked round read at `now`, listing `listed`. */
function round(w: TerminatorWatch, now: number, ...listed: Stream[]): void {
  for (const s of listed) s.heard(now);
  w.roundEnded(now);
}

t.test('a lagging reader: rounds and frames read seconds late fail nothing that they show alive', async (t) => {
  const w = new TerminatorWatch(0);
  const silent = new Stream(w, 0);
  const busy = new Stream(w, 0);
  round(w, 0, silent);
  // The reader stalls 5 s; then reads, in the terminator's order, what was queued meanwhile (20 rounds).
  t.equal(silent.judge(5_000), 'terminator_silent', 'judged before anything queued is read, it would fail (the sweep runs after the reads)');
  let now = 5_000;
  for (let i = 0; i < 20; i++) {
    busy.heard(now); // a Data frame, published before the round
    round(w, now, silent);
    now += 1;
    t.equal(silent.judge(now), 'alive');
    t.equal(busy.judge(now), 'alive');
  }
  t.ok(now - busy.lastSeen < STALL);
});

t.test('a stream its terminator stopped listing stalls after STALL_ROUNDS rounds, even while the terminator lives', async (t) => {
  const w = new TerminatorWatch(0);
  const lost = new Stream(w, 0);
  const other = new Stream(w, 0);
  let now = 0;
  for (let i = 0; i < STALL_ROUNDS; i++) {
    now += 250;
    round(w, now, other);
    t.equal(lost.judge(now), 'alive', `${i + 1} round(s) without it: still waiting`);
  }
  now += 250;
  round(w, now, other);
  t.equal(lost.judge(now), 'not_listed', `${STALL_ROUNDS + 1} rounds without it: lost`);
  t.equal(other.judge(now), 'alive');
});

t.test('a frame between rounds counts as hearing the stream; a frame in the round in progress too', async (t) => {
  const w = new TerminatorWatch(0);
  const s = new Stream(w, 0);
  let now = 0;
  for (let i = 0; i < 10; i++) {
    now += 100;
    s.heard(now); // active: never silent long enough to be listed
    now += 150;
    round(w, now);
    t.equal(s.judge(now), 'alive');
  }
});

t.test('a dead or partitioned terminator: nothing read from it for the stall timeout fails its streams', async (t) => {
  const w = new TerminatorWatch(0);
  const s = new Stream(w, 0);
  round(w, 100, s);
  t.equal(s.judge(100 + STALL), 'alive', 'at the stall timeout: not yet');
  t.equal(s.judge(101 + STALL), 'terminator_silent', 'past it: silent terminator');
  w.read(500); // a frame of another stream of that terminator
  t.equal(s.judge(101 + STALL), 'alive', 'anything read from the terminator keeps its streams waiting for its rounds');
});

t.test('a quiet terminator counts as dead only once our own link confirms the silence, or past the lag we wait out', async (t) => {
  const w = new TerminatorWatch(0);
  const s = new Stream(w, 0);
  round(w, 100, s);
  const late = 100 + STALL + 2_000;
  t.equal(s.judge(late, 100 + STALL - 1), 'alive', 'our link confirmed only up to within the stall timeout: its frames may be on the way');
  t.equal(s.judge(late, 101 + STALL), 'terminator_silent', 'a PING sent past the stall timeout came back with nothing from it: dead');
  t.equal(s.judge(100 + STALL + MAX_LINK_LAG_MS, 100), 'alive', 'no PING answered since: waited out up to MAX_LINK_LAG_MS');
  t.equal(s.judge(101 + STALL + MAX_LINK_LAG_MS, 100), 'terminator_silent', 'past that, dead anyway (a link this far behind is down)');
  t.equal(s.judge(101 + STALL, 5_000_000), 'terminator_silent', 'a confirmation later than now counts as now');
});

t.test('a terminator that never marked a round keeps the per-stream wall-clock check', async (t) => {
  const w = new TerminatorWatch(0);
  const s = new Stream(w, 0);
  w.read(800); // another stream's frames: no help to this one
  t.equal(s.judge(STALL), 'alive');
  t.equal(s.judge(STALL + 1), 'stream_silent');
  t.equal(judgeStall(undefined, 0, 0, STALL + 1, STALL), 'stream_silent', 'no watch at all: the same');
  t.equal(judgeStall(undefined, 0, 0, STALL, STALL), 'alive');
  round(w, 1_000);
  t.ok(w.marksRounds, 'one marked round and its streams are judged by rounds');
});

t.test('watches are made at an Ack only, and forgotten once long silent', async (t) => {
  const ws = new TerminatorWatches(60_000);
  t.equal(ws.get('trm_a'), undefined, 'a stranger gets no watch');
  const a = ws.acked('trm_a', 0);
  t.equal(ws.acked('trm_a', 10), a, 'one per terminator');
  ws.acked('trm_b', 50_000);
  ws.prune(60_001);
  t.equal(ws.get('trm_a'), undefined);
  t.equal(ws.get('trm_b')?.lastReadAt, 50_000);
  t.equal(ws.size, 1);
});
