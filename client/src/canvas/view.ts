// BoardView: the canvas. Owns the view transform (infinite canvas: pan and
// zoom), pointer input (pen, eraser, hand, pinch), the optimistic overlay of
// pending ops, remote drafts and cursors, and the render loop.

import type { BoardChange, Entry } from '../lib/board';
import { strokeBBox } from '../lib/board';
import { History } from '../lib/history';
import { computeOverlay } from '../lib/overlay';
import { newOpId } from '../lib/ids';
import type { SyncClient } from '../lib/sync';
import { COORD_LIMIT, MAX_POINTS, type DurableOp, type PresenceClient, type Stroke } from '../lib/types';
import { buildPath, drawStroke, entryPath, hitStroke, round1 } from './geometry';
import { TileLayer } from './tiles';

export type Tool = 'pen' | 'eraser' | 'hand';

interface Draft {
  stroke: Stroke;
  from: string;
  t: number;
  path: Path2D | null;
}

interface Cursor {
  x: number;
  y: number;
  name: string;
  t: number;
}

interface Current {
  stroke: Stroke;
  sentPoints: number; // numbers (not points) already sent as draft
  lastDraft: number;
  sx: number; // smoothed input
  sy: number;
}

const MIN_SCALE = 0.02;
const MAX_SCALE = 32;
const DRAFT_MS = 33;
const CURSOR_MS = 50;
const SETTLE_MS = 160;

export function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 70% 45%)`;
}

export class BoardView {
  tool: Tool = 'pen';
  color = '#1e1e1e';
  width = 4;
  /** css px per world unit, and world origin in css px */
  scale = 1;
  ox = 0;
  oy = 0;
  readonly history = new History();
  /** last frame render times (ms) */
  readonly frameTimes: number[] = [];
  onUi: () => void = () => {};

  private readonly ctx: CanvasRenderingContext2D;
  private readonly tiles: TileLayer;
  private dpr = 1;
  private cssW = 0;
  private cssH = 0;
  private K = 1; // current tile level
  private prevK: number | null = null;
  private lastZoomAt = -1e9;
  private raf = 0;
  private settleTimer = 0;
  // optimistic overlay of pending ops
  private overrides = new Map<string, boolean>();
  private clearAll = false;
  private pendingStrokes = new Map<string, { stroke: Stroke; visible: boolean; path: Path2D }>();
  // live
  private drafts = new Map<string, Draft>();
  private cursors = new Map<string, Cursor>();
  private presence = new Map<string, PresenceClient>();
  private current: Current | null = null;
  private erasing: { ids: Set<string> } | null = null;
  private panning: { x: number; y: number } | null = null;
  private pointers = new Map<number, { x: number; y: number }>();
  private pinch: { dist: number; cx: number; cy: number } | null = null;
  private spaceDown = false;
  private lastCursorSent = 0;
  private cursorLatest: { x: number; y: number } | null = null;
  private cursorTimer = 0;
  private pointerPos: { x: number; y: number } | null = null;
  private readonly unsub: (() => void)[] = [];
  private readonly ro: ResizeObserver | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly sync: SyncClient,
  ) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    this.tiles = new TileLayer({
      order: () => this.sync.board.order,
      visible: (e) => this.isVisible(e),
    });
    this.unsub.push(
      sync.on({
        board: (c) => this.onBoard(c),
        pending: () => this.refreshOverlay(),
        draft: (m) => this.onDraft(m),
        cursor: (m) => this.onCursor(m),
        presence: (cl) => this.onPresence(cl),
      }),
    );
    this.refreshOverlay();
    const h = (e: PointerEvent) => this.onPointer(e);
    for (const t of ['pointerdown', 'pointermove', 'pointerup', 'pointercancel', 'pointerleave'] as const) {
      canvas.addEventListener(t, h);
      this.unsub.push(() => canvas.removeEventListener(t, h));
    }
    const w = (e: WheelEvent) => this.onWheel(e);
    canvas.addEventListener('wheel', w, { passive: false });
    this.unsub.push(() => canvas.removeEventListener('wheel', w));
    const cm = (e: Event) => e.preventDefault();
    canvas.addEventListener('contextmenu', cm);
    this.unsub.push(() => canvas.removeEventListener('contextmenu', cm));
    if (typeof ResizeObserver !== 'undefined') {
      this.ro = new ResizeObserver(() => this.resize());
      this.ro.observe(canvas);
    }
    const onDpr = () => this.resize();
    window.addEventListener('resize', onDpr);
    this.unsub.push(() => window.removeEventListener('resize', onDpr));
    this.resize();
  }

  destroy(): void {
    for (const u of this.unsub) u();
    this.ro?.disconnect();
    cancelAnimationFrame(this.raf);
    clearTimeout(this.settleTimer);
    clearTimeout(this.cursorTimer);
  }

  // ---------- visibility with pending ops applied ----------

  isVisible(e: Entry): boolean {
    const o = this.overrides.get(e.stroke.id);
    if (o !== undefined) return o;
    return this.clearAll ? false : !e.hidden;
  }

  /** Visible stroke ids in drawing order, including my pending strokes. */
  visibleIds(): string[] {
    const out: string[] = [];
    for (const e of this.sync.board.order) if (this.isVisible(e)) out.push(e.stroke.id);
    for (const [id, p] of this.pendingStrokes) if (p.visible) out.push(id);
    return out;
  }

  private refreshOverlay(): void {
    const oldKeys = [...this.overrides.keys()];
    const oldClear = this.clearAll;
    const board = this.sync.board;
    const o = computeOverlay(board, this.sync.pendingOps());
    const overrides = o.overrides;
    const clearAll = o.clearAll;
    const pending = new Map<string, { stroke: Stroke; visible: boolean; path: Path2D }>();
    for (const [id, p] of o.strokes) {
      const prev = this.pendingStrokes.get(id);
      pending.set(id, { stroke: p.stroke, visible: p.visible, path: prev && prev.stroke === p.stroke ? prev.path : buildPath(p.stroke.points) });
    }
    this.overrides = overrides;
    this.clearAll = clearAll;
    this.pendingStrokes = pending;
    if (clearAll !== oldClear) {
      for (const e of board.order) e.shown = this.isVisible(e);
      this.tiles.invalidateAll();
    } else {
      const ids = new Set([...oldKeys, ...overrides.keys()]);
      this.syncShown(ids);
    }
    this.requestRender();
    this.onUi();
  }

  private syncShown(ids: Iterable<string>): void {
    for (const id of ids) {
      const e = this.sync.board.byId.get(id);
      if (!e) continue;
      const vis = this.isVisible(e);
      if (e.shown !== vis) {
        e.shown = vis;
        this.tiles.invalidate(e.bbox);
      }
    }
  }

  private onBoard(c: BoardChange): void {
    if (c.kind === 'reset') {
      for (const e of this.sync.board.order) e.shown = this.isVisible(e);
      this.tiles.clear();
    } else if (c.kind === 'append') {
      const e = c.entry;
      e.shown = this.isVisible(e);
      if (e.shown) this.tiles.drawOnTop(e);
      this.drafts.delete(e.stroke.id);
    } else if (c.kind === 'visibility') {
      if (c.entries.length > 300) {
        for (const e of c.entries) e.shown = this.isVisible(e);
        this.tiles.invalidateAll();
      } else {
        this.syncShown(c.entries.map((e) => e.stroke.id));
      }
    }
    this.requestRender();
  }

  // ---------- remote live messages ----------

  private onDraft(m: { stroke: Stroke; from?: string; name?: string }): void {
    const s = m.stroke;
    if (!s || typeof s.id !== 'string' || !Array.isArray(s.points)) return;
    if (this.sync.board.byId.has(s.id)) return;
    let d = this.drafts.get(s.id);
    if (!d) {
      d = { stroke: { id: s.id, color: s.color, width: s.width, points: [] }, from: m.from ?? '', t: 0, path: null };
      this.drafts.set(s.id, d);
    }
    for (const v of s.points) d.stroke.points.push(v);
    d.path = null;
    d.t = performance.now();
    this.requestRender();
  }

  private onCursor(m: { x: number; y: number; from?: string; name?: string }): void {
    if (!m.from || typeof m.x !== 'number' || typeof m.y !== 'number') return;
    this.cursors.set(m.from, { x: m.x, y: m.y, name: m.name ?? this.presence.get(m.from)?.name ?? '', t: performance.now() });
    this.requestRender();
  }

  private onPresence(list: PresenceClient[]): void {
    this.presence = new Map(list.map((c) => [c.id, c]));
    for (const id of [...this.cursors.keys()]) if (!this.presence.has(id)) this.cursors.delete(id);
    this.requestRender();
  }

  // ---------- ops ----------

  private submit(op: DurableOp): void {
    this.sync.submit(op);
  }

  undo(): void {
    const op = this.history.undo(newOpId);
    if (op) this.submit(op);
    this.onUi();
  }

  redo(): void {
    const op = this.history.redo(newOpId);
    if (op) this.submit(op);
    this.onUi();
  }

  /** Clear the board; returns the number of strokes hidden. Undoable (restore of those ids). */
  clearBoard(): number {
    const ids = this.visibleIds();
    if (ids.length === 0) return 0;
    this.submit({ t: 'clear', op: newOpId() });
    this.history.push({ kind: 'clear', ids });
    this.onUi();
    return ids.length;
  }

  // ---------- view ----------

  private resize(): void {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    this.cssW = r.width;
    this.cssH = r.height;
    if (dpr !== this.dpr) {
      this.dpr = dpr;
      this.tiles.clear();
    }
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.renderNow();
  }

  toWorld(cx: number, cy: number): [number, number] {
    return [(cx - this.ox) / this.scale, (cy - this.oy) / this.scale];
  }

  zoomAt(factor: number, cx: number, cy: number): void {
    const ns = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    const f = ns / this.scale;
    if (f === 1) return;
    this.ox = cx - (cx - this.ox) * f;
    this.oy = cy - (cy - this.oy) * f;
    this.scale = ns;
    this.lastZoomAt = performance.now();
    clearTimeout(this.settleTimer);
    this.settleTimer = window.setTimeout(() => this.requestRender(), SETTLE_MS + 10);
    this.requestRender();
    this.onUi();
  }

  zoomBy(factor: number): void {
    this.zoomAt(factor, this.cssW / 2, this.cssH / 2);
  }

  panBy(dx: number, dy: number): void {
    const lim = COORD_LIMIT * this.scale;
    this.ox = Math.max(-lim, Math.min(lim, this.ox + dx));
    this.oy = Math.max(-lim, Math.min(lim, this.oy + dy));
    this.requestRender();
  }

  resetView(): void {
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.lastZoomAt = -1e9;
    this.requestRender();
    this.onUi();
  }

  // ---------- input ----------

  setSpace(down: boolean): void {
    this.spaceDown = down;
    this.canvas.dataset.pan = down ? '1' : '';
  }

  private local(e: { clientX: number; clientY: number }): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const k = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.cssH : 1;
    const [cx, cy] = this.local(e);
    if (e.ctrlKey || e.metaKey) {
      // trackpad pinch (ctrlKey) or ctrl+wheel: zoom around the pointer
      this.zoomAt(Math.exp(-e.deltaY * k * 0.01), cx, cy);
    } else if (e.shiftKey && e.deltaX === 0) {
      this.panBy(-e.deltaY * k, 0);
    } else {
      this.panBy(-e.deltaX * k, -e.deltaY * k);
    }
  }

  private onPointer(e: PointerEvent): void {
    const [x, y] = this.local(e);
    switch (e.type) {
      case 'pointerdown': {
        this.canvas.setPointerCapture?.(e.pointerId);
        if (e.pointerType === 'touch') {
          this.pointers.set(e.pointerId, { x, y });
          if (this.pointers.size === 2) {
            // second finger: a pinch/pan gesture, drop the stroke just started
            this.current = null;
            this.erasing = null;
            this.panning = null;
            this.pinch = this.pinchState();
            this.requestRender();
            return;
          }
          if (this.pointers.size > 2) return;
        }
        if (e.button === 1 || e.button === 2 || this.tool === 'hand' || this.spaceDown) {
          this.panning = { x, y };
          this.canvas.dataset.panning = '1';
          return;
        }
        if (e.button !== 0) return;
        if (this.tool === 'pen') this.beginStroke(x, y);
        else if (this.tool === 'eraser') {
          this.erasing = { ids: new Set() };
          this.eraseAt(x, y);
        }
        return;
      }
      case 'pointermove': {
        this.pointerPos = { x, y };
        if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, { x, y });
        if (this.pinch && this.pointers.size >= 2) {
          const p = this.pinchState();
          this.panBy(p.cx - this.pinch.cx, p.cy - this.pinch.cy);
          if (this.pinch.dist > 0) this.zoomAt(p.dist / this.pinch.dist, p.cx, p.cy);
          this.pinch = p;
          return;
        }
        if (this.panning) {
          this.panBy(x - this.panning.x, y - this.panning.y);
          this.panning = { x, y };
          return;
        }
        if (this.current) {
          const evs = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
          if (evs.length > 1) for (const ce of evs) this.extendStroke(...this.local(ce));
          else this.extendStroke(x, y);
        } else if (this.erasing) {
          this.eraseAt(x, y);
        }
        this.sendCursor(x, y);
        if (this.tool === 'eraser') this.requestRender();
        return;
      }
      case 'pointerup':
      case 'pointercancel': {
        this.pointers.delete(e.pointerId);
        if (this.pinch) {
          if (this.pointers.size < 2) this.pinch = null;
          return;
        }
        if (this.panning) {
          this.panning = null;
          this.canvas.dataset.panning = '';
          return;
        }
        if (this.current) {
          if (e.type === 'pointerup') this.extendStroke(x, y, true);
          this.endStroke(e.type === 'pointercancel');
        }
        if (this.erasing) {
          this.history.push({ kind: 'erase', ids: [...this.erasing.ids] });
          this.erasing = null;
          this.onUi();
        }
        return;
      }
      case 'pointerleave':
        this.pointerPos = null;
        this.requestRender();
        return;
    }
  }

  private pinchState(): { dist: number; cx: number; cy: number } {
    const [a, b] = [...this.pointers.values()];
    return { dist: Math.hypot(a.x - b.x, a.y - b.y), cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2 };
  }

  private clampW(v: number): number {
    return round1(Math.max(-COORD_LIMIT, Math.min(COORD_LIMIT, v)));
  }

  private beginStroke(x: number, y: number): void {
    const [wx, wy] = this.toWorld(x, y);
    this.current = {
      stroke: { id: newOpId(), color: this.color, width: this.width, points: [this.clampW(wx), this.clampW(wy)] },
      sentPoints: 0,
      lastDraft: 0,
      sx: wx,
      sy: wy,
    };
    this.sendDraft(true);
    this.requestRender();
  }

  private extendStroke(x: number, y: number, final = false): void {
    const c = this.current!;
    const [wx, wy] = this.toWorld(x, y);
    // light stabiliser: follow the pointer with a little inertia
    const a = final ? 1 : 0.6;
    c.sx += (wx - c.sx) * a;
    c.sy += (wy - c.sy) * a;
    const p = c.stroke.points;
    const px = this.clampW(c.sx), py = this.clampW(c.sy);
    const lx = p[p.length - 2], ly = p[p.length - 1];
    const min = 1 / this.scale;
    if (Math.abs(px - lx) < min && Math.abs(py - ly) < min) return;
    p.push(px, py);
    if (p.length >= MAX_POINTS * 2) {
      // the protocol's limit: finish this stroke and continue with a new one
      this.endStroke(false);
      this.current = {
        stroke: { id: newOpId(), color: this.color, width: this.width, points: [px, py] },
        sentPoints: 0,
        lastDraft: 0,
        sx: c.sx,
        sy: c.sy,
      };
    }
    this.sendDraft(false);
    this.requestRender();
  }

  private sendDraft(force: boolean): void {
    const c = this.current;
    if (!c) return;
    const now = performance.now();
    if (!force && now - c.lastDraft < DRAFT_MS) return;
    if (c.sentPoints >= c.stroke.points.length) return;
    const fresh = c.stroke.points.slice(c.sentPoints);
    const s = c.stroke;
    if (this.sync.sendEphemeral({ t: 'draft', stroke: { id: s.id, color: s.color, width: s.width, points: fresh } })) {
      c.sentPoints = s.points.length;
    }
    c.lastDraft = now;
  }

  private endStroke(cancel: boolean): void {
    const c = this.current;
    this.current = null;
    if (!c || cancel) {
      this.requestRender();
      return;
    }
    const s = c.stroke;
    const stroke: Stroke = { id: s.id, color: s.color, width: s.width, points: s.points };
    this.submit({ t: 'stroke', op: newOpId(), stroke });
    this.history.push({ kind: 'stroke', ids: [s.id] });
    this.onUi();
  }

  private sendCursor(x: number, y: number): void {
    // throttled, with a trailing send so that the last position always goes out
    const [wx, wy] = this.toWorld(x, y);
    this.cursorLatest = { x: round1(wx), y: round1(wy) };
    const wait = CURSOR_MS - (performance.now() - this.lastCursorSent);
    if (wait > 0) {
      if (!this.cursorTimer) this.cursorTimer = window.setTimeout(() => this.flushCursor(), wait);
      return;
    }
    this.flushCursor();
  }

  private flushCursor(): void {
    this.cursorTimer = 0;
    const c = this.cursorLatest;
    if (!c) return;
    this.cursorLatest = null;
    this.lastCursorSent = performance.now();
    this.sync.sendEphemeral({ t: 'cursor', x: c.x, y: c.y });
  }

  private eraseAt(x: number, y: number): void {
    const er = this.erasing!;
    const [wx, wy] = this.toWorld(x, y);
    const r = 6 / this.scale;
    const hits: string[] = [];
    for (const [id, p] of this.pendingStrokes) {
      if (p.visible && !er.ids.has(id) && hitStroke(p.stroke, wx, wy, r)) hits.push(id);
    }
    const order = this.sync.board.order;
    for (let n = order.length - 1; n >= 0; n--) {
      const e = order[n];
      const b = e.bbox;
      if (wx < b.minX - r || wx > b.maxX + r || wy < b.minY - r || wy > b.maxY + r) continue;
      if (er.ids.has(e.stroke.id) || !this.isVisible(e)) continue;
      if (hitStroke(e.stroke, wx, wy, r)) hits.push(e.stroke.id);
    }
    if (hits.length === 0) return;
    for (const id of hits) er.ids.add(id);
    this.submit({ t: 'erase', op: newOpId(), ids: hits });
  }

  // ---------- export ----------

  /** Render the visible board (bounding box of all strokes) into a new canvas of at most maxDim px. */
  private renderAll(maxDim: number, maxScale: number, pad: number, limit = Infinity): HTMLCanvasElement | null {
    const entries: { s: Stroke; path: Path2D; b: ReturnType<typeof strokeBBox> }[] = [];
    for (const e of this.sync.board.order) {
      if (entries.length >= limit) break;
      if (this.isVisible(e)) entries.push({ s: e.stroke, path: entryPath(e), b: e.bbox });
    }
    for (const p of this.pendingStrokes.values()) if (p.visible) entries.push({ s: p.stroke, path: p.path, b: strokeBBox(p.stroke) });
    if (entries.length === 0) return null;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const { b } of entries) {
      minX = Math.min(minX, b.minX);
      minY = Math.min(minY, b.minY);
      maxX = Math.max(maxX, b.maxX);
      maxY = Math.max(maxY, b.maxY);
    }
    const w = maxX - minX + 2 * pad, h = maxY - minY + 2 * pad;
    const k = Math.min(maxScale, maxDim / w, maxDim / h);
    const c = document.createElement('canvas');
    c.width = Math.max(1, Math.ceil(w * k));
    c.height = Math.max(1, Math.ceil(h * k));
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.setTransform(k, 0, 0, k, (pad - minX) * k, (pad - minY) * k);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const { s, path } of entries) drawStroke(ctx, s, path);
    return c;
  }

  async exportPng(): Promise<Blob | null> {
    const c = this.renderAll(4096, 2, 24);
    if (!c) return null;
    return new Promise((res) => c.toBlob(res, 'image/png'));
  }

  /** A small preview for the home page (data URL), or null for an empty board. */
  thumbnail(): string | null {
    const c = this.renderAll(220, 1, 12, 4000);
    if (!c) return null;
    try {
      return c.toDataURL('image/webp', 0.7);
    } catch {
      return null;
    }
  }

  // ---------- rendering ----------

  requestRender(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.renderNow();
    });
  }

  private renderNow(): void {
    const t0 = performance.now();
    const ctx = this.ctx;
    const dpr = this.dpr;
    const W = this.canvas.width, H = this.canvas.height;
    const S = this.scale * dpr;
    const ox = this.ox * dpr, oy = this.oy * dpr;

    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#fbfbfa';
    ctx.fillRect(0, 0, W, H);
    this.drawGrid(ctx, S, ox, oy, W, H);

    // committed strokes: tiles
    const zooming = t0 - this.lastZoomAt < SETTLE_MS;
    let again = zooming;
    // while zooming, show the current tile level scaled; switch level once the
    // view settles, or at once when the scale is more than 2x away from it
    const ratio = S / this.K;
    if (this.K !== S && (!zooming || ratio < 0.5 || ratio > 2)) {
      if (this.prevK === null || !zooming) this.prevK = this.K;
      this.K = S;
    }
    // frame budget for (re)rendering tiles: small while the zoom is moving
    const complete = this.tiles.compose(ctx, { S, ox, oy, w: W, h: H }, this.K, this.prevK, t0 + (zooming ? 4 : 12));
    if (!complete) again = true;
    else if (this.prevK !== null && !zooming) {
      this.tiles.dropLevelsExcept(this.K);
      this.prevK = null;
    }

    // live layer in world coordinates
    ctx.setTransform(S, 0, 0, S, ox, oy);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const p of this.pendingStrokes.values()) if (p.visible) drawStroke(ctx, p.stroke, p.path);
    const now = performance.now();
    for (const [id, d] of this.drafts) {
      if (now - d.t > 10000) {
        this.drafts.delete(id);
        continue;
      }
      d.path ??= buildPath(d.stroke.points);
      drawStroke(ctx, d.stroke, d.path);
    }
    if (this.current) drawStroke(ctx, this.current.stroke, buildPath(this.current.stroke.points));

    // screen space: eraser ring and remote cursors
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (this.tool === 'eraser' && this.pointerPos) {
      ctx.beginPath();
      ctx.arc(this.pointerPos.x, this.pointerPos.y, 6, 0, Math.PI * 2);
      ctx.strokeStyle = 'rgba(30,30,30,.55)';
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    for (const [id, c] of this.cursors) {
      const age = now - c.t;
      if (age > 30000) {
        this.cursors.delete(id);
        continue;
      }
      const p = this.presence.get(id);
      this.drawCursor(ctx, c.x * this.scale + this.ox, c.y * this.scale + this.oy, p?.name || c.name || 'guest', p?.color || colorFor(id), age > 10000 ? 0.35 : 1);
    }
    const dt = performance.now() - t0;
    this.frameTimes.push(dt);
    if (this.frameTimes.length > 600) this.frameTimes.splice(0, 300);
    if (again) this.requestRender();
  }

  private drawGrid(ctx: CanvasRenderingContext2D, S: number, ox: number, oy: number, W: number, H: number): void {
    let step = 24 * S;
    while (step < 14 * this.dpr) step *= 4;
    if (step > 4000) return;
    const x0 = ((ox % step) + step) % step, y0 = ((oy % step) + step) % step;
    const r = Math.max(2, Math.round(1.5 * this.dpr));
    ctx.fillStyle = '#d9d9d4';
    if ((W / step) * (H / step) > 20000) return;
    for (let x = x0; x < W; x += step) for (let y = y0; y < H; y += step) ctx.fillRect(Math.round(x - r / 2), Math.round(y - r / 2), r, r);
  }

  private drawCursor(ctx: CanvasRenderingContext2D, x: number, y: number, name: string, color: string, alpha: number): void {
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.translate(Math.round(x), Math.round(y));
    ctx.beginPath();
    ctx.moveTo(0, 0);
    ctx.lineTo(0, 16);
    ctx.lineTo(4.5, 12);
    ctx.lineTo(8, 19);
    ctx.lineTo(10.5, 18);
    ctx.lineTo(7.2, 11.2);
    ctx.lineTo(12.5, 11.2);
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 1.5;
    ctx.fill();
    ctx.stroke();
    ctx.font = '600 11px system-ui, -apple-system, Segoe UI, sans-serif';
    const tw = ctx.measureText(name).width;
    ctx.beginPath();
    ctx.roundRect(12, 18, tw + 12, 18, 9);
    ctx.fill();
    ctx.fillStyle = '#fff';
    ctx.fillText(name, 18, 31);
    ctx.restore();
  }
}
