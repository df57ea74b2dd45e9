// Board state exactly as docs/protocol.md §4 "Board state": a list of elements
// (strokes, shapes, text) in the order they were first added, each visible or
// hidden. Ops are applied in seq order; an ev with seq <= the last applied seq
// is a duplicate and ignored. An update replaces the groups that apply to the
// element's type and keeps its place; an update of an unknown id is ignored.
// Applying an op costs O(1) amortised (Map by id + array order), except
// `clear` which touches every element present.

import { applySet, elementBBox, type BBox } from './elements';
import type { Element, EvMsg, UpdateSet } from './types';

export type { BBox } from './elements';
export { strokeBBox } from './elements';

export interface Entry {
  /** the element with every applied update (replaced, never mutated, by an update) */
  el: Element;
  hidden: boolean;
  /** position in drawing order */
  index: number;
  /** world-space bounds including half the line width */
  bbox: BBox;
  /** render cache (Path2D), built lazily by the renderer */
  path?: unknown;
  /** visibility as last rendered into the tile layer */
  shown?: boolean;
}

export type BoardChange =
  | { kind: 'append'; entry: Entry }
  | { kind: 'visibility'; entries: Entry[] }
  /** an update replaced the entry's element; `before` is its old bounds */
  | { kind: 'update'; entry: Entry; before: BBox }
  | { kind: 'none' }
  | { kind: 'reset' };

export class BoardState {
  /** highest applied seq */
  seq = 0;
  readonly byId = new Map<string, Entry>();
  readonly order: Entry[] = [];
  private visible = 0;

  get visibleCount(): number {
    return this.visible;
  }

  /** Replace the whole state with a snapshot (all elements visible). */
  loadSnapshot(seq: number, strokes: Element[]): BoardChange {
    this.byId.clear();
    this.order.length = 0;
    this.visible = 0;
    for (const s of strokes) {
      if (this.byId.has(s.id)) continue;
      this.add(s);
    }
    this.seq = seq;
    return { kind: 'reset' };
  }

  private add(s: Element): Entry {
    const e: Entry = { el: s, hidden: false, index: this.order.length, bbox: elementBBox(s) };
    this.order.push(e);
    this.byId.set(s.id, e);
    this.visible++;
    return e;
  }

  /** Apply one durable op. Returns null when it is a duplicate (seq <= last applied). */
  apply(ev: EvMsg): BoardChange | null {
    if (typeof ev.seq !== 'number' || ev.seq <= this.seq) return null;
    this.seq = ev.seq;
    switch (ev.kind) {
      case 'stroke':
        return this.applyOp('add', ev.stroke);
      case 'shape':
        return this.applyOp('add', ev.shape);
      case 'text':
        return this.applyOp('add', ev.text);
      case 'update':
        return this.update(ev.id, ev.set);
      default:
        return this.applyOp(ev.kind, undefined, ev.ids);
    }
  }

  private update(id: string | undefined, set: UpdateSet | undefined): BoardChange {
    const e = id === undefined ? undefined : this.byId.get(id);
    if (!e || !set || typeof set !== 'object') return { kind: 'none' };
    const n = applySet(e.el, set);
    if (!n) return { kind: 'none' };
    const before = e.bbox;
    e.el = n;
    e.bbox = elementBBox(n);
    e.path = undefined;
    return { kind: 'update', entry: e, before };
  }

  /** Apply an op without seq bookkeeping: 'add' (any element), 'erase', 'restore', 'clear'. */
  applyOp(kind: string, el?: Element, ids?: string[]): BoardChange {
    switch (kind) {
      case 'add': {
        if (!el || typeof el.id !== 'string' || this.byId.has(el.id)) return { kind: 'none' };
        return { kind: 'append', entry: this.add(el) };
      }
      case 'erase':
      case 'restore': {
        const hide = kind === 'erase';
        const changed: Entry[] = [];
        for (const id of ids ?? []) {
          const e = this.byId.get(id);
          if (!e || e.hidden === hide) continue;
          e.hidden = hide;
          this.visible += hide ? -1 : 1;
          changed.push(e);
        }
        return changed.length ? { kind: 'visibility', entries: changed } : { kind: 'none' };
      }
      case 'clear': {
        const changed: Entry[] = [];
        for (const e of this.order) {
          if (!e.hidden) {
            e.hidden = true;
            changed.push(e);
          }
        }
        this.visible = 0;
        return changed.length ? { kind: 'visibility', entries: changed } : { kind: 'none' };
      }
      default:
        return { kind: 'none' };
    }
  }

  /** Whether an element with this id is known (visible or hidden). */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  visibleIds(): string[] {
    const out: string[] = [];
    for (const e of this.order) if (!e.hidden) out.push(e.el.id);
    return out;
  }
}
