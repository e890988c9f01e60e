/**
 * Loaded into the bench's node children with `--import` (loopProbeArgs): dormant until the first SIGUSR2 (no
 * timer, no observer, so other phases measure the processes as they are); each SIGUSR2 after that writes the
 * event-loop delay and GC pauses seen since the previous one (loop-window.ts) to probeFile(pid) and starts a new
 * window. Read with readProbes.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { LoopWindow } from './loop-window.js';
import { probeFile } from './loop-probe-file.js';

let window: LoopWindow | undefined;

process.on('SIGUSR2', () => {
  if (!window) {
    window = new LoopWindow();
    return;
  }
  const f = probeFile(process.pid);
  // Whole or not at all: the bench polls for the file.
  writeFileSync(`${f}.tmp`, JSON.stringify(window.report()));
  renameSync(`${f}.tmp`, f);
});
