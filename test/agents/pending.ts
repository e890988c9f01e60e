/**
 * Matrix cells known not to work yet, each with the gateway work it waits for. A listed cell still runs in full
 * and prints its matrix line; its failed assertions are reported as TODO instead of failing the suite. A listed
 * cell that passes says so, so the entry gets removed. Keys: `<client>/<scenario>` (every upstream kind) or
 * `<client>/<upstream kind>/<scenario>`, e.g. `'codex/tool-image': 'waits for …'`. The goal is an empty table.
 */
const PENDING: Readonly<Record<string, string>> = {};

/** Why a cell is expected to fail today, or undefined when it must pass. */
export function pendingReason(client: string, upstream: string, scenario: string): string | undefined {
  return PENDING[`${client}/${upstream}/${scenario}`] ?? PENDING[`${client}/${scenario}`];
}
