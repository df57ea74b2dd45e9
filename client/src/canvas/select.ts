// The select tool: click an element (Shift: add/remove) or drag a box around
// elements; drag the selection to move it, drag a corner handle to resize it
// (shapes: their box; text: its size; strokes: their points scaled); Delete
// erases it, Ctrl+D duplicates it, a colour/width pick restyles it. Moves and
// resizes show a live preview, send `draft` updates while dragging and one
// `update` op per element at the end (undoable). Part of PointerInput.

import { applySet, currentSet, duplicate, groupsOf, isText, transformSet, unionBBox, type BBox } from '../lib/elements';
import type { Change, History } from '../lib/history';
import { newOpId } from '../lib/ids';
import type { DurableOp, Element, UpdateSet } from '../lib/types';
import { hitElement } from './geometry';
import type { Viewport } from './viewport';

/** A visible element as shown (my pending ops applied). */
export interface SceneItem {
  id: string;
  el: Element;
  bbox: BBox;
}

export interface SelectHost {
  readonly history: History;
  /** visible elements as shown, in drawing order */
  scene(): SceneItem[];
  item(id: string): SceneItem | null;
  submit(op: DurableOp): void;
  /** show these elements in place of their current values while dragging (null: stop) */
  preview(m: Map<string, Element> | null): void;
  /** live draft of an element being moved/resized */
  draftUpdate(id: string, set: UpdateSet): void;
  requestRender(): void;
  onUi(): void;
}

type Handle = 0 | 1 | 2 | 3; // corners: top-left, top-right, bottom-right, bottom-left

type Drag =
  | { mode: 'move'; x0: number; y0: number; items: SceneItem[]; t: Xf | null }
  | { mode: 'resize'; handle: Handle; box: BBox; items: SceneItem[]; t: Xf | null }
  | { mode: 'band'; x0: number; y0: number; x1: number; y1: number };

interface Xf {
  ax: number;
  ay: number;
  sx: number;
  sy: number;
  dx: number;
  dy: number;
}

const DRAFT_MS = 50;
/** drafts sent per move (the first elements of a big selection) */
const DRAFT_MAX = 20;
/** where Ctrl+D puts the copy, in css px */
const DUP_OFFSET = 24;
const HANDLE_PX = 8;

function corner(b: BBox, h: Handle): [number, number] {
  return [h === 0 || h === 3 ? b.minX : b.maxX, h === 0 || h === 1 ? b.minY : b.maxY];
}

export class SelectTool {
  readonly selected = new Set<string>();
  private drag: Drag | null = null;
  private lastDraft = 0;

  constructor(
    private readonly vp: Viewport,
    private readonly host: SelectHost,
  ) {}

  get dragging(): boolean {
    return this.drag !== null;
  }

  /** The selected elements still visible (drops the others from the selection). */
  items(): SceneItem[] {
    const out: SceneItem[] = [];
    for (const id of [...this.selected]) {
      const it = this.host.item(id);
      if (it) out.push(it);
      else this.selected.delete(id);
    }
    return out;
  }

  box(): BBox | null {
    return unionBBox(this.items().map((i) => i.bbox));
  }

  clear(): void {
    if (this.selected.size === 0) return;
    this.selected.clear();
    this.host.requestRender();
    this.host.onUi();
  }

  select(ids: Iterable<string>): void {
    this.selected.clear();
    for (const id of ids) this.selected.add(id);
    this.host.requestRender();
    this.host.onUi();
  }

  /** The topmost visible element at (x, y) (world), within r. */
  hit(x: number, y: number, r: number): SceneItem | null {
    const scene = this.host.scene();
    for (let n = scene.length - 1; n >= 0; n--) {
      const it = scene[n];
      const b = it.bbox;
      if (x < b.minX - r || x > b.maxX + r || y < b.minY - r || y > b.maxY + r) continue;
      if (hitElement(it.el, b, x, y, r)) return it;
    }
    return null;
  }

  private handleAt(x: number, y: number): Handle | null {
    const b = this.box();
    if (!b) return null;
    const r = HANDLE_PX / this.vp.scale;
    for (const h of [0, 1, 2, 3] as Handle[]) {
      const [hx, hy] = corner(b, h);
      if (Math.abs(x - hx) <= r && Math.abs(y - hy) <= r) return h;
    }
    return null;
  }

  down(x: number, y: number, shift: boolean): void {
    const r = 6 / this.vp.scale;
    const h = shift ? null : this.handleAt(x, y);
    if (h !== null) {
      this.drag = { mode: 'resize', handle: h, box: this.box()!, items: this.items(), t: null };
      return;
    }
    const it = this.hit(x, y, r);
    if (it) {
      if (shift) {
        if (this.selected.has(it.id)) {
          this.selected.delete(it.id);
          this.host.requestRender();
          this.host.onUi();
          return;
        }
        this.selected.add(it.id);
      } else if (!this.selected.has(it.id)) this.select([it.id]);
      this.drag = { mode: 'move', x0: x, y0: y, items: this.items(), t: null };
      this.host.requestRender();
      this.host.onUi();
      return;
    }
    if (!shift) this.clear();
    this.drag = { mode: 'band', x0: x, y0: y, x1: x, y1: y };
  }

  move(x: number, y: number): void {
    const d = this.drag;
    if (!d) return;
    if (d.mode === 'band') {
      d.x1 = x;
      d.y1 = y;
      this.host.requestRender();
      return;
    }
    if (d.mode === 'move') {
      d.t = { ax: 0, ay: 0, sx: 1, sy: 1, dx: x - d.x0, dy: y - d.y0 };
    } else {
      const [ax, ay] = corner(d.box, ((d.handle + 2) % 4) as Handle);
      const [hx, hy] = corner(d.box, d.handle);
      const lim = (v: number) => (Math.abs(v) < 0.02 ? (v < 0 ? -0.02 : 0.02) : v);
      let sx = lim(hx === ax ? 1 : (x - ax) / (hx - ax));
      let sy = lim(hy === ay ? 1 : (y - ay) / (hy - ay));
      if (d.items.every((i) => isText(i.el))) {
        // text keeps its proportions (its size is one number)
        sx = sy = Math.max(0.02, (Math.abs(sx) + Math.abs(sy)) / 2);
      }
      d.t = { ax, ay, sx, sy, dx: 0, dy: 0 };
    }
    const t = d.t;
    const m = new Map<string, Element>();
    for (const it of d.items) m.set(it.id, applySet(it.el, transformSet(it.el, t)) ?? it.el);
    this.host.preview(m);
    const now = performance.now();
    if (now - this.lastDraft >= DRAFT_MS) {
      this.lastDraft = now;
      for (const it of d.items.slice(0, DRAFT_MAX)) this.host.draftUpdate(it.id, transformSet(it.el, t));
    }
  }

  /** Drop the drag without changing anything (a pinch started, the pointer was cancelled). */
  cancel(): void {
    if (!this.drag) return;
    const moving = this.drag.mode !== 'band';
    this.drag = null;
    if (moving) this.host.preview(null);
    this.host.requestRender();
  }

  up(): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.mode === 'band') {
      const minX = Math.min(d.x0, d.x1), maxX = Math.max(d.x0, d.x1), minY = Math.min(d.y0, d.y1), maxY = Math.max(d.y0, d.y1);
      if (maxX - minX > 0 || maxY - minY > 0) {
        for (const it of this.host.scene()) {
          const b = it.bbox;
          if (b.minX >= minX && b.maxX <= maxX && b.minY >= minY && b.maxY <= maxY) this.selected.add(it.id);
        }
      }
      this.host.requestRender();
      this.host.onUi();
      return;
    }
    const t = d.t;
    if (t && (t.dx !== 0 || t.dy !== 0 || t.sx !== 1 || t.sy !== 1)) {
      this.apply(d.items.map((it) => ({ it, set: transformSet(it.el, t) })));
    }
    this.host.preview(null);
  }

  /** Submit one update per element and one undoable action for them all. */
  private apply(list: { it: SceneItem; set: UpdateSet }[]): void {
    const changes: Change[] = [];
    for (const { it, set } of list) {
      const groups = groupsOf(set);
      const before = currentSet(it.el, groups);
      if (Object.keys(before).length === 0) continue;
      this.host.submit({ t: 'update', op: newOpId(), id: it.id, set });
      changes.push({ id: it.id, before, after: set });
    }
    this.host.history.push({ kind: 'update', changes });
    this.host.onUi();
  }

  /** Restyle the selection (colour of everything, width of strokes and shapes); false when nothing is selected. */
  restyle(set: { color?: string; width?: number }): boolean {
    const items = this.items();
    if (items.length === 0) return false;
    this.apply(items.filter((it) => !(set.width !== undefined && set.color === undefined && isText(it.el))).map((it) => ({ it, set: { ...set } })));
    return true;
  }

  /** Erase the selection (undoable). */
  deleteSelected(): number {
    const ids = this.items().map((i) => i.id);
    if (ids.length === 0) return 0;
    this.host.submit({ t: 'erase', op: newOpId(), ids });
    this.host.history.push({ kind: 'erase', ids });
    this.clear();
    return ids.length;
  }

  /** Copy the selection with new ids, a little offset; the copies become the selection. */
  duplicateSelected(): number {
    const items = this.items();
    if (items.length === 0) return 0;
    const off = DUP_OFFSET / this.vp.scale;
    const ids: string[] = [];
    for (const it of items) {
      const c = duplicate(it.el, newOpId(), off, off);
      ids.push(c.id);
      if (c.type === 'shape') this.host.submit({ t: 'shape', op: newOpId(), shape: c });
      else if (c.type === 'text') this.host.submit({ t: 'text', op: newOpId(), text: c });
      else this.host.submit({ t: 'stroke', op: newOpId(), stroke: c });
    }
    this.host.history.push({ kind: 'stroke', ids });
    this.select(ids);
    return ids.length;
  }

  /** The selection box and handles, and the rubber band (css px; ctx is in css px). */
  decorate(ctx: CanvasRenderingContext2D): void {
    const vp = this.vp;
    const sx = (x: number) => x * vp.scale + vp.ox, sy = (y: number) => y * vp.scale + vp.oy;
    ctx.save();
    ctx.lineWidth = 1;
    const d = this.drag;
    if (d && d.mode === 'band') {
      ctx.strokeStyle = '#1971c2';
      ctx.fillStyle = 'rgba(25,113,194,.08)';
      const x = sx(Math.min(d.x0, d.x1)), y = sy(Math.min(d.y0, d.y1));
      const w = Math.abs(d.x1 - d.x0) * vp.scale, h = Math.abs(d.y1 - d.y0) * vp.scale;
      ctx.fillRect(x, y, w, h);
      ctx.strokeRect(x + 0.5, y + 0.5, w, h);
    }
    let b = this.box();
    if (b && d && d.mode !== 'band' && d.t) {
      const t = d.t;
      const fx = (v: number) => t.ax + t.sx * (v - t.ax) + t.dx, fy = (v: number) => t.ay + t.sy * (v - t.ay) + t.dy;
      const [x0, x1, y0, y1] = [fx(d.mode === 'resize' ? d.box.minX : b.minX), fx(d.mode === 'resize' ? d.box.maxX : b.maxX), fy(d.mode === 'resize' ? d.box.minY : b.minY), fy(d.mode === 'resize' ? d.box.maxY : b.maxY)];
      b = { minX: Math.min(x0, x1), maxX: Math.max(x0, x1), minY: Math.min(y0, y1), maxY: Math.max(y0, y1) };
    }
    if (b) {
      ctx.strokeStyle = '#1971c2';
      ctx.setLineDash([4, 3]);
      const x = Math.round(sx(b.minX)) + 0.5, y = Math.round(sy(b.minY)) + 0.5;
      const w = Math.round((b.maxX - b.minX) * vp.scale), h = Math.round((b.maxY - b.minY) * vp.scale);
      ctx.strokeRect(x, y, w, h);
      ctx.setLineDash([]);
      ctx.fillStyle = '#ffffff';
      for (const h0 of [0, 1, 2, 3] as Handle[]) {
        const [hx, hy] = corner(b, h0);
        const px = Math.round(sx(hx)), py = Math.round(sy(hy));
        ctx.fillRect(px - 4, py - 4, 8, 8);
        ctx.strokeRect(px - 3.5, py - 3.5, 7, 7);
      }
    }
    ctx.restore();
  }
}
