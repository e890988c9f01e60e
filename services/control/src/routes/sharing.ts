import type { FastifyInstance } from 'fastify';
import { createInviteBody, idParams, noQuery, redeemBody } from '../schemas.js';
import { scopeOf, type RouteContext } from '../context.js';
import { deploymentView, inviteView, shareView } from '../views.js';

/** Shared access: invites (code shown once), redeeming, shares of my deployments, deployments shared with me. */
export function sharingRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const id = (p: unknown): string => (p as { id: string }).id;

  app.get('/deployments/:id/invites', { schema: { params: idParams } }, async (request) => ({
    data: (await ctx.ops.listInvites(scopeOf(request), id(request.params))).map(inviteView),
  }));

  app.post('/deployments/:id/invites', { schema: { params: idParams, body: createInviteBody } }, async (request, reply) => {
    const body = request.body as { expiresAt: string; maxUses: number };
    const { record, secret } = await ctx.ops.createInvite(scopeOf(request), id(request.params), body);
    return reply.code(201).send({ invite: inviteView(record), code: secret });
  });

  app.post('/invites/:id/revoke', { schema: { params: idParams } }, async (request) => ({
    invite: inviteView(await ctx.ops.revokeInvite(scopeOf(request), id(request.params))),
  }));

  app.get('/deployments/:id/shares', { schema: { params: idParams } }, async (request) => ({
    data: (await ctx.ops.listShares(scopeOf(request), id(request.params))).map(shareView),
  }));

  app.delete('/shares/:id', { schema: { params: idParams } }, async (request) => ({
    share: shareView(await ctx.ops.revokeShare(scopeOf(request), id(request.params))),
  }));

  app.post('/shared', { schema: { body: redeemBody } }, async (request, reply) => {
    const { share, deployment } = await ctx.ops.redeemInvite(scopeOf(request), (request.body as { code: string }).code);
    return reply.code(201).send({ share: shareView(share), deployment: deploymentView(deployment) });
  });

  app.get('/shared', { schema: { querystring: noQuery } }, async (request) => {
    const list = await ctx.ops.listSharedWithMe(scopeOf(request));
    const live = await ctx.status.forDeployments(list.map((s) => s.deployment.id));
    // A receiver sees whether a shared deployment is online, never the owner's connectors (versions, models, load).
    const status = (id: string) => {
      const st = live.get(id);
      return st && { known: st.known, online: st.online };
    };
    return { data: list.map((s) => ({ share: shareView(s.share), deployment: { ...deploymentView(s.deployment), status: status(s.deployment.id) } })) };
  });
}
