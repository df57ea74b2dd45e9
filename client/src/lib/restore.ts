// "Restore this version": the ops that bring the board from its current
// state back to a past snapshot, without rewriting the log (an erase of what
// was added since, a restore of what was hidden since).

import type { Element } from './types';

export interface RestorePlan {
  /** visible now, absent from the version: hide */
  erase: string[];
  /** visible in the version, not visible now: show again (keeps its place) */
  restore: string[];
}

/** current: the visible stroke ids now; version: the elements of the past snapshot. */
export function restorePlan(current: Iterable<string>, version: Element[]): RestorePlan {
  const want = new Set(version.map((s) => s.id));
  const now = new Set(current);
  const erase = [...now].filter((id) => !want.has(id));
  const restore = version.map((s) => s.id).filter((id) => !now.has(id));
  return { erase, restore };
}

/** Ops carry at most this many ids (the server's limit is 10000). */
export function chunks<T>(xs: T[], n = 5000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
