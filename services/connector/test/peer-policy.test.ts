import t from 'tap';
import { peerRefusal } from '../src/peer-policy.js';

t.test('a connector moves only to peers on the gateway host or the allow-list, never from wss to ws (issue 8 finding 2)', async (t) => {
  const gw = 'wss://api.tokios.dev/v1/tunnel';
  t.equal(peerRefusal(gw, 'wss://api.tokios.dev/v1/tunnel/terminator-2'), undefined, 'same host, another path');
  t.equal(peerRefusal(gw, 'https://API.tokios.dev:8443/v1/tunnel'), undefined, 'same host, https, another port, any case');
  t.match(peerRefusal(gw, 'ws://api.tokios.dev/v1/tunnel'), /downgrade/, 'wss → ws refused');
  t.match(peerRefusal(gw, 'http://api.tokios.dev/v1/tunnel'), /downgrade/, 'wss → http refused');
  t.match(peerRefusal(gw, 'wss://evil.example/v1/tunnel'), /allow-list/, 'a foreign host');
  t.match(peerRefusal(gw, 'wss://api.tokios.dev.evil.example/'), /allow-list/, 'a look-alike host');
  t.equal(peerRefusal(gw, 'wss://t7.tunnels.tokios.dev/v1/tunnel', ['*.tunnels.tokios.dev']), undefined, 'wildcard allow-list');
  t.match(peerRefusal(gw, 'wss://tunnels.tokios.dev/', ['*.tunnels.tokios.dev']), /allow-list/, 'a wildcard needs a subdomain');
  t.match(peerRefusal(gw, 'wss://xtunnels.tokios.dev/', ['*.tunnels.tokios.dev']), /allow-list/, 'not a suffix match on a label');
  t.equal(peerRefusal(gw, 'wss://t2.tokios.dev/', ['t2.tokios.dev']), undefined, 'exact allow-list entry');
  t.match(peerRefusal(gw, 'ftp://api.tokios.dev/'), /not a tunnel URL/);
  t.match(peerRefusal(gw, 'not a url'), /not a URL/);
  t.equal(peerRefusal('ws://127.0.0.1:8080/v1/tunnel', 'wss://127.0.0.1:9000/v1/tunnel'), undefined, 'ws → wss is an upgrade: fine');
  t.match(peerRefusal('ws://127.0.0.1:8080/v1/tunnel', 'ws://127.0.0.2:9000/v1/tunnel'), /allow-list/, 'another loopback address is another host');
});
