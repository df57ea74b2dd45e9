// BoardView: the canvas of one board. Puts together the view transform
// (viewport.ts), pointer input (input.ts) and the renderer (render.ts), and
// owns what they share: the optimistic overlay of my pending ops, remote
// drafts, cursors and presence, undo/redo, and whole-board export.

import type { BoardChange, Entry } from '../lib/board';
import { strokeBBox } from '../lib/board';
import { History } from '../lib/history';
import { newOpId } from '../lib/ids';
import { computeOverlay } from '../lib/overlay';
import type { SyncClient } from '../lib/sync';
import type { DurableOp, PresenceClient, Stroke } from '../lib/types';
import { buildPath, entryPath } from './geometry';
import { PointerInput, type InputHost, type Tool } from './input';
import { Renderer, renderImage, type Cursor, type Draft, type ImageStroke, type PendingStroke } from './render';
import { Viewport } from './viewport';

export type { Tool } from './input';
export { colorFor } from './render';

export class BoardView implements InputHost {
  tool: Tool = 'pen';
  color = '#1e1e1e';
  width = 4;
  readonly history = new History();
  onUi: () => void = () => {};

  private readonly vp: Viewport;
  private readonly renderer: Renderer;
  private readonly input: PointerInput;
  // optimistic overlay of pending ops
  private overrides = new Map<string, boolean>();
  private clearAll = false;
  private pending = new Map<string, PendingStroke>();
  // live
  private readonly drafts = new Map<string, Draft>();
  private readonly cursors = new Map<string, Cursor>();
  private presence = new Map<string, PresenceClient>();
  private readonly unsub: (() => void)[] = [];
  private readonly ro: ResizeObserver | null = null;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly sync: SyncClient,
  ) {
    this.vp = new Viewport((ui) => {
      this.requestRender();
      if (ui) this.onUi();
    });
    this.renderer = new Renderer(
      canvas,
      this.vp,
      {
        pending: () => this.pending.values(),
        drafts: this.drafts,
        cursors: this.cursors,
        presence: () => this.presence,
        current: () => this.input.current?.stroke ?? null,
        eraserRing: () => (this.tool === 'eraser' ? this.input.pointerPos : null),
      },
      { order: () => this.sync.board.order, visible: (e) => this.isVisible(e) },
    );
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
    this.input = new PointerInput(canvas, this.vp, sync, this);
    if (typeof ResizeObserver !== 'undefined') {
      this.ro = new ResizeObserver(() => this.renderer.resize());
      this.ro.observe(canvas);
    }
    const onDpr = () => this.renderer.resize();
    window.addEventListener('resize', onDpr);
    this.unsub.push(() => window.removeEventListener('resize', onDpr));
    this.renderer.resize();
  }

  destroy(): void {
    for (const u of this.unsub) u();
    this.input.destroy();
    this.ro?.disconnect();
    this.renderer.destroy();
    this.vp.destroy();
  }

  /** css px per world unit, and world origin in css px */
  get scale(): number {
    return this.vp.scale;
  }
  get ox(): number {
    return this.vp.ox;
  }
  get oy(): number {
    return this.vp.oy;
  }
  /** last frame render times (ms) */
  get frameTimes(): number[] {
    return this.renderer.frameTimes;
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
    for (const [id, p] of this.pending) if (p.visible) out.push(id);
    return out;
  }

  pendingStrokes(): Iterable<[string, PendingStroke]> {
    return this.pending;
  }

  private refreshOverlay(): void {
    const oldKeys = [...this.overrides.keys()];
    const oldClear = this.clearAll;
    const board = this.sync.board;
    const o = computeOverlay(board, this.sync.pendingOps());
    const overrides = o.overrides;
    const clearAll = o.clearAll;
    const pending = new Map<string, PendingStroke>();
    for (const [id, p] of o.strokes) {
      const prev = this.pending.get(id);
      pending.set(id, { stroke: p.stroke, visible: p.visible, path: prev && prev.stroke === p.stroke ? prev.path : buildPath(p.stroke.points) });
    }
    this.overrides = overrides;
    this.clearAll = clearAll;
    this.pending = pending;
    if (clearAll !== oldClear) {
      for (const e of board.order) e.shown = this.isVisible(e);
      this.renderer.tiles.invalidateAll();
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
        this.renderer.tiles.invalidate(e.bbox);
      }
    }
  }

  private onBoard(c: BoardChange): void {
    const tiles = this.renderer.tiles;
    if (c.kind === 'reset') {
      for (const e of this.sync.board.order) e.shown = this.isVisible(e);
      tiles.clear();
    } else if (c.kind === 'append') {
      const e = c.entry;
      e.shown = this.isVisible(e);
      if (e.shown) tiles.drawOnTop(e);
      this.drafts.delete(e.stroke.id);
    } else if (c.kind === 'visibility') {
      if (c.entries.length > 300) {
        for (const e of c.entries) e.shown = this.isVisible(e);
        tiles.invalidateAll();
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

  submit(op: DurableOp): void {
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

  // ---------- view and input ----------

  toWorld(cx: number, cy: number): [number, number] {
    return this.vp.toWorld(cx, cy);
  }

  zoomAt(factor: number, cx: number, cy: number): void {
    this.vp.zoomAt(factor, cx, cy);
  }

  /** Shows exactly this view transform (follow, docs/protocol.md §9). */
  setView(ox: number, oy: number, scale: number): void {
    this.vp.set(ox, oy, scale);
  }

  zoomBy(factor: number): void {
    this.vp.zoomBy(factor);
  }

  panBy(dx: number, dy: number): void {
    this.vp.panBy(dx, dy);
  }

  resetView(): void {
    this.vp.reset();
  }

  setSpace(down: boolean): void {
    this.input.setSpace(down);
  }

  requestRender(): void {
    this.renderer.requestRender();
  }

  // ---------- export ----------

  /** The visible board (committed and pending, at most `limit` committed strokes) as an image. */
  private renderAll(maxDim: number, maxScale: number, pad: number, limit = Infinity): HTMLCanvasElement | null {
    const entries: ImageStroke[] = [];
    for (const e of this.sync.board.order) {
      if (entries.length >= limit) break;
      if (this.isVisible(e)) entries.push({ s: e.stroke, path: entryPath(e), b: e.bbox });
    }
    for (const p of this.pending.values()) if (p.visible) entries.push({ s: p.stroke, path: p.path, b: strokeBBox(p.stroke) });
    return renderImage(entries, maxDim, maxScale, pad);
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
}
