import { isObject, type Obj } from '../guard.js';

/**
 * The request values a Response object repeats: the Responses API echoes its request (instructions, tools, sampling
 * values, text format…) in every response object, and clients read them back (e.g. to resume with the same settings).
 * Read from a body parseRequest has already validated, so only presence and type are checked here.
 */
export interface ResponsesEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Obj;
  parallel_tool_calls: boolean;
  temperature: number | null;
  text: { format: Obj };
  tool_choice: string | Obj;
  tools: unknown[];
  top_p: number | null;
  /** Echoed only when the caller sent them (the API's own defaults are not known for a private model). */
  optional: Obj;
}

/** What a response says when the request named none of them: the API's defaults for a stateless call. */
export const NEUTRAL_ECHO: ResponsesEcho = {
  instructions: null,
  max_output_tokens: null,
  metadata: {},
  parallel_tool_calls: true,
  temperature: null,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: null,
  optional: {},
};

/** Sent values that are echoed only when present. */
const OPTIONAL = ['prompt_cache_key', 'safety_identifier', 'user', 'reasoning', 'service_tier', 'top_logprobs'] as const;

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export function responsesEcho(body: unknown): ResponsesEcho {
  if (!isObject(body)) return NEUTRAL_ECHO;
  const text = isObject(body.text) && isObject(body.text.format) ? { format: body.text.format } : NEUTRAL_ECHO.text;
  const optional: Obj = {};
  for (const key of OPTIONAL) if (body[key] !== undefined && body[key] !== null) optional[key] = body[key];
  return {
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: num(body.max_output_tokens),
    metadata: isObject(body.metadata) ? body.metadata : {},
    parallel_tool_calls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : true,
    temperature: num(body.temperature),
    text,
    tool_choice: typeof body.tool_choice === 'string' || isObject(body.tool_choice) ? body.tool_choice : 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: num(body.top_p),
    optional,
  };
}
