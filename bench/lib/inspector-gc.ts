import { WebSocket } from 'ws';

/**
 * Forces a full garbage collection in another node process through its inspector (started with
 * --inspect=127.0.0.1:0), so RSS comparisons are not skewed by garbage that happens to be uncollected.
 */
export async function collectGarbage(debuggerUrl: string, timeoutMs = 10_000): Promise<void> {
  const ws = new WebSocket(debuggerUrl, { perMessageDeflate: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('inspector: no answer to HeapProfiler.collectGarbage')), timeoutMs);
      ws.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as { id?: number; error?: { message: string } };
        if (m.id !== 1) return;
        clearTimeout(t);
        if (m.error) reject(new Error(`inspector: ${m.error.message}`));
        else resolve();
      });
    });
  } finally {
    ws.terminate();
  }
}
