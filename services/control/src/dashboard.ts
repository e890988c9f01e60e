import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { zodValidatorCompiler } from './validation.js';

export const DASHBOARD_PREFIX = '/dashboard';
const PUBLIC_DIR = new URL('../../public/', import.meta.url);

const ASSETS = [
  { route: '', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { route: '/aliases.js', file: 'aliases.js', type: 'text/javascript; charset=utf-8' },
  { route: '/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
] as const;

/** Everything from our own origin; no inline script, no external fetches. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The dashboard: one static page, a small vanilla script and a stylesheet, read once at startup. */
export const dashboard: FastifyPluginAsync = async (app) => {
  app.setValidatorCompiler(zodValidatorCompiler);
  const query = z.record(z.string(), z.string());
  for (const a of ASSETS) {
    const body = await readFile(new URL(a.file, PUBLIC_DIR));
    for (const route of [a.route === '' ? '/' : a.route]) {
      app.get(route, { schema: { querystring: query } }, async (_request, reply) =>
        reply
          .header('content-type', a.type)
          .header('content-security-policy', CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .header('cache-control', 'no-cache')
          .send(body),
      );
    }
  }
  app.setNotFoundHandler((_request, reply) => reply.code(404).header('content-type', 'text/plain').send('not found'));
};
