// RequestSubjects on a real nats-server: a subject given up (its deployment's or connector's last tunnel here closed)
// still answers the Requests NATS had already routed to this terminator, instead of dropping them. The race is made
// deterministic by holding what the terminator's client sends (its UNSUB) in a TCP gate while the server delivers.
import t, { type Test } from 'tap';
import { connect, type Msg, type NatsConnection } from 'nats';
import { silentLogger } from '@tokios/shared/log';
import { subjects } from '@tokios/shared/subjects';
import { RequestSubjects } from '@tokios/terminator';
import { NatsServer, TcpGate, until } from '../support/index.js';

const DEP = 'dep_subjects';
const CON = 'con_subjects';

interface Seen {
  subject: string;
  deploymentId: string;
  connectorId: string | undefined;
}

async function setup(t: Test): Promise<{ gate: TcpGate; subs: RequestSubjects; terminatorNc: NatsConnection; ingress: NatsConnection; seen: Seen[] }> {
  const nats = await NatsServer.start();
  const gate = await TcpGate.start(nats.port);
  const [terminatorNc, ingress] = await Promise.all([connect({ servers: gate.url }), connect({ servers: nats.url })]);
  const seen: Seen[] = [];
  const subs = new RequestSubjects(terminatorNc, silentLogger(), (msg: Msg, deploymentId, connectorId) => seen.push({ subject: msg.subject, deploymentId, connectorId }));
  t.teardown(async () => {
    subs.close();
    await Promise.all([terminatorNc.close(), ingress.close()]);
    await gate.close();
    await nats.stop();
  });
  return { gate, subs, terminatorNc, ingress, seen };
}

for (const kind of ['deployment', 'connector'] as const) {
  t.test(`a ${kind} subject given up still answers what was already routed here`, async (t) => {
    const { gate, subs, terminatorNc, ingress, seen } = await setup(t);
    const subject = kind === 'deployment' ? subjects.request(DEP) : subjects.connectorRequest(DEP, CON);
    const routable = (on: boolean): void => (kind === 'deployment' ? subs.setRoutable(DEP, on) : subs.setConnectorRoutable(DEP, CON, on));
    routable(true);
    await terminatorNc.flush(); // the SUB is at the server
    ingress.publish(subject, new Uint8Array([1]), { reply: 'tokios.in.ing_t.r0' });
    await until(() => seen.length === 1, 5_000, 'the first request');

    gate.hold();
    routable(false); // its UNSUB waits in the gate: the server still routes the subject here
    ingress.publish(subject, new Uint8Array([2]), { reply: 'tokios.in.ing_t.r1' });
    await ingress.flush();
    await until(() => seen.length === 2, 5_000, 'the request routed here before the UNSUB reached the server');
    t.same(seen[1], { subject, deploymentId: DEP, connectorId: kind === 'connector' ? CON : undefined }, 'handed to the intake (which answers Reject), not dropped');

    gate.release();
    await terminatorNc.flush(); // the server has the UNSUB once the PING behind it is answered
    // Given up for good: nobody takes the subject any more (NATS answers no-responders).
    const code = await ingress.request(subject, new Uint8Array([3]), { timeout: 2_000 }).then(() => 'answered', (err: { code?: string }) => err.code);
    t.equal(code, '503', 'no responders on the given-up subject');
    t.equal(seen.length, 2, 'nothing more was taken');
  });
}
