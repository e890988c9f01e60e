// Docker healthcheck of the Tokios services (their image has no curl or wget): `node healthcheck.mjs URL` exits 0
// when the URL answers 2xx within 3 s, else 1 with the reason on stderr.
const url = process.argv[2];
if (!url || !/^https?:\/\//.test(url)) {
  process.stderr.write('usage: node healthcheck.mjs http://127.0.0.1:PORT/readyz\n');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) process.stderr.write(`${url}: ${res.status}\n`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
