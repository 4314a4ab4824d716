import type { Phase, VersionPin } from '../../core/rollout/machine.js';

/** Where the traffic should be after a transition. */
export interface TrafficTarget {
  phase: Phase;
  /** The candidate's share, 0–100. */
  weight: number;
  candidate: VersionPin;
  stable: VersionPin;
}

/**
 * Where the weight goes. `apply` sets the split and confirms it by reading it back (throwing when
 * what it reads is not what it wrote); `check` is `rollout start`'s reachability test; `describe`
 * is a one-line summary for the history and the live view.
 */
export interface Backend {
  readonly kind: string;
  check(target: TrafficTarget): Promise<void>;
  apply(target: TrafficTarget): Promise<string>;
}
