import { subjects } from '@tokios/shared/subjects';
import type { SessionHomes } from './homes.js';

/**
 * How a request was placed, for the metrics: on its session's home, moved off it, a session's first, or no session
 * (no key, affinity off, or served by an alias's fallback target).
 */
export type AffinityResult = 'home' | 'moved' | 'new' | 'none';

/**
 * One call's cache-affine placement. While the session's home is known and has not refused, the Request goes to that
 * connector's own subject; after no-responders (the home is gone), a Reject (busy, draining) or no Ack, it goes to the
 * deployment's subject (least loaded), and whichever connector acks becomes the home.
 */
export class Placement {
  /** The session's home when the call started. */
  private readonly home: string | undefined;
  /** The connector the next publish targets (the home, until it refused once). */
  private target: string | undefined;

  constructor(
    private readonly homes: SessionHomes | undefined,
    private readonly session: string | undefined,
    /** The deployment the session key is scoped to (an alias's first target: its fallbacks are placed by load). */
    private readonly deploymentId: string,
  ) {
    this.home = session !== undefined ? homes?.home(session) : undefined;
    this.target = this.home;
  }

  subject(deploymentId: string): string {
    return this.target === undefined || deploymentId !== this.deploymentId ? subjects.request(deploymentId) : subjects.connectorRequest(deploymentId, this.target);
  }

  /**
   * The targeted home did not take the request: true when it was targeted (send again at once, to the deployment),
   * false when the publish was the deployment's already (the usual retry rules apply). `gone`: no terminator has the
   * home any more, so it is forgotten rather than tried again by the next request.
   */
  fallBack(gone: boolean): boolean {
    const target = this.target;
    if (target === undefined) return false;
    this.target = undefined;
    if (gone && this.session !== undefined) this.homes?.forget(this.session, target);
    return true;
  }

  /** A terminator acked on `connectorId` of `deploymentId`: the session's home from now on. */
  acked(deploymentId: string, connectorId: string): AffinityResult {
    if (this.session === undefined || this.homes === undefined || deploymentId !== this.deploymentId) return 'none';
    this.homes.placed(this.session, connectorId);
    return this.home === undefined ? 'new' : this.home === connectorId ? 'home' : 'moved';
  }
}
