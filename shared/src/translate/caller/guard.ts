import { TokiosError } from '../../errors/registry.js';
import type { Ignored } from './ignored.js';

/** Small validation helpers for request parsing. Messages name the parameter, never echo prompt text. */

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalid(param: string, message: string): never {
  throw new TokiosError('invalid_request', `${param}: ${message}`, { param });
}

export function unsupported(param: string, message: string): never {
  throw new TokiosError('unsupported_parameter', `${param}: ${message}`, { param });
}

export function checkKeys(obj: Obj, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) unsupported(path ? `${path}.${key}` : key, 'this parameter is not supported');
  }
}

/**
 * Forward compatibility: keys this parser does not read are accepted and reported as ignored (a new client version
 * adds fields faster than a gateway learns them). Keys the parser reads are validated where it reads them.
 */
export function acceptKeys(obj: Obj, known: readonly string[], path: string, ignored: Ignored): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key) || obj[key] === undefined || obj[key] === null) continue;
    ignored.field(path ? `${path}.${key}` : key);
  }
}

/** The JSON shape an advisory field must have: its value is not used, but a malformed body is still a 400. */
export type Shape = 'object' | 'array' | 'string' | 'boolean' | 'number' | 'any';

export function checkShape(value: unknown, shape: Shape, param: string): void {
  const ok =
    shape === 'any' ||
    (shape === 'object' && isObject(value)) ||
    (shape === 'array' && Array.isArray(value)) ||
    (shape === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === shape;
  if (!ok) invalid(param, `must be ${shape === 'array' || shape === 'object' ? 'an' : 'a'} ${shape}`);
}

/** Advisory fields of one object: shape-checked, then reported as ignored (null/absent ones are not reported). */
export function acceptAdvisory(obj: Obj, advisory: Readonly<Record<string, Shape>>, path: string, ignored: Ignored): void {
  for (const [key, shape] of Object.entries(advisory)) {
    const value = obj[key];
    if (value === undefined || value === null) continue;
    const at = path ? `${path}.${key}` : key;
    checkShape(value, shape, at);
    ignored.field(at);
  }
}

export function oneOf<const T extends readonly string[]>(value: unknown, allowed: T, param: string): T[number] {
  if (typeof value === 'string' && allowed.includes(value)) return value;
  return invalid(param, `must be one of ${allowed.join(', ')}`);
}

export function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string') invalid(param, 'must be a string');
  return value;
}

export function requireObject(value: unknown, param: string): Obj {
  if (!isObject(value)) invalid(param, 'must be an object');
  return value;
}

export function requireArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) invalid(param, 'must be an array');
  return value;
}

/** A number in [min, max]; null/undefined -> undefined. Out of range is rejected, never clamped. */
export function optNumber(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalid(param, `must be a number between ${min} and ${max}`);
  }
  return value;
}

/** An integer >= min; null/undefined -> undefined. */
export function optInt(value: unknown, param: string, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) invalid(param, `must be an integer >= ${min}`);
  return value;
}

export function optBoolean(value: unknown, param: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') invalid(param, 'must be a boolean');
  return value;
}
