import type { Test } from 'tap';
import { pendingReason } from './pending.js';
import type { Window } from './scripted-stack.js';

/**
 * One cell of the measured matrix (client × upstream kind × scenario) inside its tap subtest: the assertions go
 * through here so a cell listed in pending.ts reports its failures as TODO, and every cell ends with one
 * `matrix:` line (pass/FAIL, model calls, streamed or not, time) for the record.
 */
export class Cell {
  private ok = true;
  readonly pending: string | undefined;

  constructor(
    private readonly t: Test,
    readonly client: string,
    readonly upstream: string,
    readonly scenario: string,
  ) {
    this.pending = pendingReason(client, upstream, scenario);
  }

  private get extra(): { todo?: string } {
    return this.pending ? { todo: this.pending } : {};
  }

  // The outcome is judged here, not taken from tap: a TODO assertion reports success even when it failed.
  check(cond: unknown, message: string): boolean {
    this.t.ok(cond, message, this.extra);
    this.ok &&= Boolean(cond);
    return Boolean(cond);
  }

  equal(found: unknown, wanted: unknown, message: string): boolean {
    this.t.equal(found, wanted, message, this.extra);
    this.ok &&= found === wanted;
    return found === wanted;
  }

  /** Every model call answered 200, and a streamed one as an event stream. */
  answered(w: Window): void {
    this.check(w.calls.length > 0, 'the client called the gateway');
    for (const c of w.calls) {
      this.equal(c.status, 200, `${c.method} ${c.url} answered 200`);
      if (c.stream) this.check(/^text\/event-stream/.test(c.contentType), `${c.url} streamed as asked`);
    }
  }

  /** Prints the context once when anything failed, and the cell's matrix line. */
  finish(w: Window, ms: number, context: () => string): void {
    if (!this.ok) this.t.comment(`${context()}\ngateway exchanges:\n${w.describe()}`);
    if (this.ok && this.pending) this.t.comment(`${this.client}/${this.scenario} passes now: remove it from test/agents/pending.ts`);
    const streamed = w.calls.length > 0 && w.calls.every((c) => c.stream === true);
    const state = this.ok ? 'pass' : this.pending ? 'FAIL (pending)' : 'FAIL';
    const refused = w.exchanges.find((e) => e.status >= 400);
    const why = !this.ok && refused ? `, first refusal ${refused.status} ${errorMessage(refused.errorBody)}` : '';
    this.t.comment(`matrix: ${this.client} × ${this.upstream} × ${this.scenario}: ${state}, ${w.calls.length} model call(s), ${streamed ? 'streamed' : 'not streamed'}, ${(ms / 1000).toFixed(1)} s${why}`);
  }
}

/** The message of an error body in any of the three caller shapes, shortened (it names a field, never prompt text). */
function errorMessage(body: string | undefined): string {
  try {
    const v = JSON.parse(body ?? '') as { error?: { message?: unknown } };
    if (typeof v.error?.message === 'string') return JSON.stringify(v.error.message.slice(0, 160));
  } catch {
    // not JSON
  }
  return JSON.stringify((body ?? '').slice(0, 160));
}
