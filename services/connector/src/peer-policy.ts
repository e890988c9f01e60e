/**
 * Which peer terminators a connector may move a tunnel to. Peer URLs reach a connector from the fabric (presence,
 * relayed in Welcome): a forged or misconfigured one must not lead the connector, with its credentials, to a host
 * the operator does not run, nor from TLS to plain text.
 *
 * A peer is allowed when its host is the gateway's own host or on the operator's allow-list (`peerHosts` in
 * Welcome: exact host names or `*.domain` for any subdomain), and its scheme is not weaker than the gateway's
 * (`wss`/`https` gateway: `wss`/`https` peers only).
 */
export function peerRefusal(gatewayUrl: string, peerUrl: string, peerHosts: readonly string[] = []): string | undefined {
  let gw: URL;
  let peer: URL;
  try {
    gw = new URL(gatewayUrl);
    peer = new URL(peerUrl);
  } catch {
    return 'not a URL';
  }
  const secure = (u: URL): boolean | undefined => ({ 'wss:': true, 'https:': true, 'ws:': false, 'http:': false })[u.protocol];
  const peerSecure = secure(peer);
  if (peerSecure === undefined) return 'not a tunnel URL';
  if (secure(gw) && !peerSecure) return 'would downgrade wss to ws';
  const host = peer.hostname.toLowerCase();
  if (host === gw.hostname.toLowerCase()) return undefined;
  for (const pattern of peerHosts) {
    const p = pattern.toLowerCase();
    if (p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p) return undefined;
  }
  return 'host is neither the gateway’s nor on the operator’s allow-list';
}
