/**
 * One process's event-loop delay and GC pauses over a window (start to report): what loop-probe.ts measures in a
 * probed process, and what the slow-stream client measures of itself.
 *
 * Event-loop delay: monitorEventLoopDelay's timer every RESOLUTION_MS (in libuv, no JS per sample) records how
 * late it fired; a turn that runs 40 ms shows as ~40 ms. GC: every pause V8 reports (PerformanceObserver 'gc'),
 * by kind: scavenges (young generation) and mark-compacts (the whole heap, the long ones).
 */
import { monitorEventLoopDelay, PerformanceObserver, constants, type IntervalHistogram } from 'node:perf_hooks';

/** The sampling period: 200 wake-ups a second per probed process while a window is open. */
export const RESOLUTION_MS = 5;

export interface GcStat {
  count: number;
  totalMs: number;
  maxMs: number;
}

/** One process's window: event-loop delay beyond the sampling period (ms) and GC pauses by kind. */
export interface LoopProbe {
  pid: number;
  seconds: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  samples: number;
  gc: Record<string, GcStat>;
}

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};

export class LoopWindow {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly observer: PerformanceObserver;
  private gc: Record<string, GcStat> = {};
  private since = performance.now();

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        const s = (this.gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
        s.count++;
        s.totalMs += e.duration;
        if (e.duration > s.maxMs) s.maxMs = e.duration;
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.loop.enable();
  }

  /** What was seen since the start or the previous report; the next window starts now. */
  report(): LoopProbe {
    const h = this.loop;
    // The histogram holds whole timer intervals (ns): the delay is what exceeds the resolution.
    const over = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const now = performance.now();
    const r: LoopProbe = {
      pid: process.pid, seconds: (now - this.since) / 1000,
      loopP50Ms: over(h.percentile(50)), loopP99Ms: over(h.percentile(99)), loopMaxMs: over(h.max), samples: h.count, gc: this.gc,
    };
    h.reset();
    this.gc = {};
    this.since = now;
    return r;
  }

  stop(): void {
    this.loop.disable();
    this.observer.disconnect();
  }
}
