import type { FastifySchemaCompiler } from 'fastify';
import type { ZodType } from 'zod';
import { ControlError } from './errors.js';

const PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

/** Fastify validator for zod schemas: the first issue becomes a 400 `invalid_request` naming the field. */
export const zodValidatorCompiler: FastifySchemaCompiler<ZodType> = ({ schema, httpPart }) => (data: unknown) => {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data };
  const issue = result.error.issues[0];
  const field = [PART[httpPart ?? 'body'] ?? 'body', ...(issue?.path ?? []).map(String)].join('.');
  return { error: new ControlError('invalid_request', `Invalid ${field}: ${issue?.message ?? 'bad value'}.`, { field }) };
};
