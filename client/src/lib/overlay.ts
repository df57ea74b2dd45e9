// The optimistic view of my pending ops (unacked, or acked but not yet seen
// as an ev): what the board looks like once they are applied. Recomputed when
// the set of pending ops changes (it is small: usually a few ops).

import type { BoardState, Entry } from './board';
import { applySet } from './elements';
import type { DurableOp, Element } from './types';

export interface Overlay {
  /** committed elements whose visibility a pending op changes */
  overrides: Map<string, boolean>;
  /** a pending clear hides every committed element not overridden after it */
  clearAll: boolean;
  /** my elements not yet on the board, in order, with their visibility (pending updates applied) */
  strokes: Map<string, { el: Element; visible: boolean }>;
  /** committed elements as pending updates change them */
  updated: Map<string, Element>;
}

function added(op: DurableOp): Element | null {
  if (op.t === 'stroke') return op.stroke;
  if (op.t === 'shape') return op.shape;
  if (op.t === 'text') return op.text;
  return null;
}

export function computeOverlay(board: BoardState, ops: readonly DurableOp[]): Overlay {
  const overrides = new Map<string, boolean>();
  const strokes = new Map<string, { el: Element; visible: boolean }>();
  const updated = new Map<string, Element>();
  let clearAll = false;
  for (const op of ops) {
    const el = added(op);
    if (el) {
      if (!board.byId.has(el.id) && !strokes.has(el.id)) strokes.set(el.id, { el, visible: true });
    } else if (op.t === 'update') {
      const p = strokes.get(op.id);
      if (p) {
        p.el = applySet(p.el, op.set) ?? p.el;
        continue;
      }
      const e = board.byId.get(op.id);
      if (!e) continue;
      const n = applySet(updated.get(op.id) ?? e.el, op.set);
      if (n) updated.set(op.id, n);
    } else if (op.t === 'clear') {
      clearAll = true;
      overrides.clear();
      for (const p of strokes.values()) p.visible = false;
    } else if (op.t === 'erase' || op.t === 'restore') {
      const vis = op.t === 'restore';
      for (const id of op.ids) {
        const p = strokes.get(id);
        if (p) p.visible = vis;
        else if (board.byId.has(id)) overrides.set(id, vis);
      }
    }
  }
  return { overrides, clearAll, strokes, updated };
}

export function visibleWith(o: Overlay, e: Entry): boolean {
  const v = o.overrides.get(e.el.id);
  if (v !== undefined) return v;
  return o.clearAll ? false : !e.hidden;
}
