import t from 'tap';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ONE_STRING_MAX_BYTES, writeBufferedAnswer } from '../src/buffered-answer.js';

/** One answer written by writeBufferedAnswer, as a client reads it: status, headers and the body's bytes. */
async function answered(status: number, contentType: string, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const server = createServer((_req, res) => writeBufferedAnswer(res, status, contentType, body, ['x-request-id', 'req_1']));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((ok, fail) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', fail);
      req.end('{}');
    });
  } finally {
    server.close();
  }
}

t.test('every byte value goes out as given, in the one-string form and as a Buffer', async (t) => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  // Not UTF-8 (lone continuation bytes, 0xff): latin1 still maps each byte to itself.
  for (const body of [all, Buffer.from('{"content":"héllo ✓ 😀"}'), Buffer.alloc(ONE_STRING_MAX_BYTES, 0xe9), Buffer.alloc(ONE_STRING_MAX_BYTES + 1, 0x80)]) {
    const a = await answered(200, 'application/json', body);
    t.equal(a.status, 200);
    t.equal(a.headers['content-length'], String(body.length));
    t.equal(a.headers['content-type'], 'application/json');
    t.equal(a.headers['x-request-id'], 'req_1');
    t.ok(a.body.equals(body), `${body.length} bytes arrive unchanged`);
  }
});

t.test('an empty content type and an empty body; a 204 has no body and no content headers', async (t) => {
  const empty = await answered(502, '', Buffer.alloc(0));
  t.equal(empty.status, 502);
  t.equal(empty.headers['content-type'], 'application/octet-stream');
  t.equal(empty.headers['content-length'], '0');
  t.equal(empty.body.length, 0);
  const none = await answered(204, 'application/json', Buffer.from('{}'));
  t.equal(none.status, 204);
  t.equal(none.headers['content-type'], undefined);
  t.equal(none.body.length, 0);
});
