import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '@tokios/shared/store';
import type { CallerProtocol, HeadMeta } from '@tokios/shared/protocol';
import { TokiosError, renderStreamError } from '@tokios/shared/errors';
import type { FabricClient } from './fabric.js';
import { authenticate } from './auth.js';
import { parseJsonBody, routingFields } from './body.js';
import { sendError } from './errors.js';

export interface ProxyDeps {
  fabric: FabricClient;
  store: Store;
}

/** Caller headers the model side may need. */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'];

/**
 * Authenticates, finds the deployment, sends the request down the fabric and relays the answer:
 * buffered for non-streamed calls, written through as it arrives for streamed ones.
 */
export async function proxyToDeployment(deps: ProxyDeps, protocol: CallerProtocol, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const caller = await authenticate(request, deps.store);
  const raw = request.body as Buffer;
  const body = parseJsonBody(raw);
  const { model, stream } = routingFields(body);
  const deployment = await deps.store.findDeploymentByName(caller.tenantId, model);
  if (!deployment) throw new TokiosError('model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`, { param: 'model' });

  const headers: Record<string, string> = {};
  for (const h of FORWARDED_HEADERS) {
    const v = request.headers[h];
    if (typeof v === 'string') headers[h] = v.slice(0, 1024);
  }

  const started = Date.now();
  let head: HeadMeta | undefined;
  let streaming = false;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    res.uncork();
  };
  const parts: Buffer[] = [];
  const res = reply.raw;
  let settle!: () => void;
  const finished = new Promise<void>((r) => (settle = r));

  const call = deps.fabric.call(
    {
      deploymentId: deployment.id,
      requestId: request.id,
      body: raw,
      meta: { protocol, model, stream, headers, tenantId: caller.tenantId, keyId: caller.keyId },
    },
    {
      onHead(h) {
        head = h;
        if (stream && h.status < 400) {
          streaming = true;
          reply.hijack();
          res.writeHead(h.status, {
            'content-type': h.contentType,
            'cache-control': 'no-cache',
            'x-request-id': request.id,
            'x-accel-buffering': 'no',
          });
          res.flushHeaders();
        }
      },
      onData(payload) {
        if (streaming) {
          // Frames of this stream that arrive in one NATS read go out in one socket write (uncorked in the same turn).
          if (!corked) {
            corked = true;
            res.cork();
            setImmediate(uncork);
          }
          res.write(payload);
        } else parts.push(Buffer.from(payload));
      },
      onEnd() {
        if (streaming) res.end();
        else {
          reply
            .code(head?.status ?? 502)
            .header('content-type', head?.contentType ?? 'application/json')
            .header('x-request-id', request.id)
            .send(Buffer.concat(parts));
        }
        log('ok');
        settle();
      },
      onError(err) {
        if (streaming) {
          if (!res.writableEnded) res.end(renderStreamError(protocol, err));
        } else if (!reply.sent) {
          sendError(request, reply, err);
        }
        log(err.code);
        settle();
      },
    },
  );

  const log = (outcome: string): void => {
    request.log.info(
      { rid: request.id, deploymentId: deployment.id, keyId: caller.keyId, protocol, stream, status: head?.status, outcome, ms: Date.now() - started, terminatorId: call.terminatorId, connectorId: call.connectorId },
      'request done',
    );
  };

  // A caller that goes away must stop the generation, not just our relay.
  res.on('close', () => {
    if (!res.writableFinished) call.cancel('client disconnected');
    settle();
  });

  await finished;
}
