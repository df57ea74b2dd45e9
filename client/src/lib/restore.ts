// "Restore this version": the ops that bring the board from its current
// state back to a past snapshot, without rewriting the log (an erase of what
// was added since, a restore of what was hidden since, an update of what was
// moved, resized, restyled or edited since).

import { diffSet } from './elements';
import type { Change } from './history';
import type { Element } from './types';

export interface RestorePlan {
  /** visible now, absent from the version: hide */
  erase: string[];
  /** visible in the version, not visible now: show again (keeps its place) */
  restore: string[];
  /** in the version with other values than now: set them back */
  update: Change[];
}

/**
 * current: the visible element ids now; version: the elements of the past
 * snapshot; now: an element's current values (visible or hidden), if known.
 */
export function restorePlan(current: Iterable<string>, version: Element[], now: (id: string) => Element | null = () => null): RestorePlan {
  const want = new Set(version.map((s) => s.id));
  const cur = new Set(current);
  const erase = [...cur].filter((id) => !want.has(id));
  const restore = version.map((s) => s.id).filter((id) => !cur.has(id));
  const update: Change[] = [];
  for (const v of version) {
    const n = now(v.id);
    const d = n ? diffSet(n, v) : null;
    if (d) update.push({ id: v.id, ...d });
  }
  return { erase, restore, update };
}

/** Ops carry at most this many ids (the server's limit is 10000). */
export function chunks<T>(xs: T[], n = 5000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
