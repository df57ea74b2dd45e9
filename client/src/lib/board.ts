// Board state exactly as docs/protocol.md §4 "Board state": a list of strokes in the
// order they were first added, each visible or hidden. Ops are applied in seq
// order; an ev with seq <= the last applied seq is a duplicate and ignored.
// Applying an op costs O(1) amortised (Map by id + array order), except
// `clear` which touches every stroke present.

import type { EvMsg, Stroke } from './types';

export interface BBox {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface Entry {
  stroke: Stroke;
  hidden: boolean;
  /** position in drawing order */
  index: number;
  /** world-space bounds including half the stroke width */
  bbox: BBox;
  /** render cache (Path2D), built lazily by the renderer */
  path?: unknown;
  /** visibility as last rendered into the tile layer */
  shown?: boolean;
}

export type BoardChange =
  | { kind: 'append'; entry: Entry }
  | { kind: 'visibility'; entries: Entry[] }
  | { kind: 'none' }
  | { kind: 'reset' };

export function strokeBBox(s: Stroke): BBox {
  const p = s.points;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i + 1 < p.length; i += 2) {
    const x = p[i], y = p[i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const r = s.width / 2 + 1;
  return { minX: minX - r, minY: minY - r, maxX: maxX + r, maxY: maxY + r };
}

export class BoardState {
  /** highest applied seq */
  seq = 0;
  readonly byId = new Map<string, Entry>();
  readonly order: Entry[] = [];
  private visible = 0;

  get visibleCount(): number {
    return this.visible;
  }

  /** Replace the whole state with a snapshot (all strokes visible). */
  loadSnapshot(seq: number, strokes: Stroke[]): BoardChange {
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

  private add(s: Stroke): Entry {
    const e: Entry = { stroke: s, hidden: false, index: this.order.length, bbox: strokeBBox(s) };
    this.order.push(e);
    this.byId.set(s.id, e);
    this.visible++;
    return e;
  }

  /** Apply one durable op. Returns null when it is a duplicate (seq <= last applied). */
  apply(ev: EvMsg): BoardChange | null {
    if (typeof ev.seq !== 'number' || ev.seq <= this.seq) return null;
    this.seq = ev.seq;
    return this.applyOp(ev.kind, ev.stroke, ev.ids);
  }

  /** Apply an op without seq bookkeeping (also used for local previews). */
  applyOp(kind: string, stroke?: Stroke, ids?: string[]): BoardChange {
    switch (kind) {
      case 'stroke': {
        if (!stroke || this.byId.has(stroke.id)) return { kind: 'none' };
        return { kind: 'append', entry: this.add(stroke) };
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

  /** Whether a stroke with this id is known (visible or hidden). */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  visibleIds(): string[] {
    const out: string[] = [];
    for (const e of this.order) if (!e.hidden) out.push(e.stroke.id);
    return out;
  }
}
