// A test process that is stopped by a signal (tap's timeout sends SIGTERM) must not leave its child processes
// running: they would slow down or confuse every later run.
import t from 'tap';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUPPORT = join(dirname(fileURLToPath(import.meta.url)), '../support/index.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// tap stops a test that ran past its timeout with SIGALRM.
for (const signal of ['SIGALRM', 'SIGTERM', 'SIGINT'] as const) {
  t.test(`children of a test process stopped by ${signal} are killed`, async (t) => {
    const script = `
      const { NatsServer } = await import(${JSON.stringify(SUPPORT)});
      const s = await NatsServer.start();
      process.stdout.write('pid ' + s['child'].pid + '\\n');
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /pid (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', (code) => reject(new Error(`test process exited early (${code})`)));
    });
    t.ok(alive(pid), 'the nats-server child runs');
    const exited = new Promise((r) => parent.once('exit', r));
    parent.kill(signal);
    await exited;
    // The parent killed it synchronously before exiting; give the kernel a moment to deliver the SIGKILL.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    t.notOk(alive(pid), 'the nats-server child is gone with its test process');
  });
}
