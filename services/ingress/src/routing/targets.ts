import type { CachedDeployment, CachedRoute } from '../auth/auth-cache.js';

/** Names the deployment that served an answer (for an alias: which of its targets). */
export const DEPLOYMENT_HEADER = 'tokios-deployment';

/**
 * The deployments a request is placed on, first choice first (the call falls back along the list before any answer
 * byte). A deployment is a list of one. An `ordered` alias keeps its order; a `weighted` one draws each next target
 * by weight among those left, so the first choice spreads by weight and the fallbacks too.
 */
export function placementOrder(route: CachedRoute, random: () => number = Math.random): CachedDeployment[] {
  if (route.kind === 'deployment') return [route.deployment];
  if (route.mode === 'ordered' || route.targets.length < 2) return route.targets.map((x) => x.deployment);
  const left = [...route.targets];
  const out: CachedDeployment[] = [];
  while (left.length > 0) {
    let r = random() * left.reduce((sum, x) => sum + x.weight, 0);
    let i = 0;
    while (i < left.length - 1 && (r -= left[i]!.weight) >= 0) i++;
    out.push(left.splice(i, 1)[0]!.deployment);
  }
  return out;
}
