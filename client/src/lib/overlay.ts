// The optimistic view of my pending ops (unacked, or acked but not yet seen
// as an ev): what the board looks like once they are applied. Recomputed when
// the set of pending ops changes (it is small: usually a few ops).

import type { BoardState, Entry } from './board';
import type { DurableOp, Stroke } from './types';

export interface Overlay {
  /** committed strokes whose visibility a pending op changes */
  overrides: Map<string, boolean>;
  /** a pending clear hides every committed stroke not overridden after it */
  clearAll: boolean;
  /** my strokes not yet on the board, in order, with their visibility */
  strokes: Map<string, { stroke: Stroke; visible: boolean }>;
}

export function computeOverlay(board: BoardState, ops: readonly DurableOp[]): Overlay {
  const overrides = new Map<string, boolean>();
  const strokes = new Map<string, { stroke: Stroke; visible: boolean }>();
  let clearAll = false;
  for (const op of ops) {
    if (op.t === 'stroke') {
      if (!board.byId.has(op.stroke.id) && !strokes.has(op.stroke.id)) strokes.set(op.stroke.id, { stroke: op.stroke, visible: true });
    } else if (op.t === 'clear') {
      clearAll = true;
      overrides.clear();
      for (const p of strokes.values()) p.visible = false;
    } else {
      const vis = op.t === 'restore';
      for (const id of op.ids) {
        const p = strokes.get(id);
        if (p) p.visible = vis;
        else if (board.byId.has(id)) overrides.set(id, vis);
      }
    }
  }
  return { overrides, clearAll, strokes };
}

export function visibleWith(o: Overlay, e: Entry): boolean {
  const v = o.overrides.get(e.stroke.id);
  if (v !== undefined) return v;
  return o.clearAll ? false : !e.hidden;
}
