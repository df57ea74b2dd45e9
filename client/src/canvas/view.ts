// BoardView: the canvas of one board. Puts together the view transform
// (viewport.ts), pointer input (input.ts) and the renderer (render.ts), and
// owns what they share: the optimistic overlay of my pending ops, remote
// drafts (strokes, shapes, text, updates), cursors and presence, the
// elements being moved or edited, undo/redo, and whole-board export.

import type { BoardChange, Entry } from '../lib/board';
import { applySet, elementBBox, type BBox } from '../lib/elements';
import { History } from '../lib/history';
import { newOpId } from '../lib/ids';
import { computeOverlay } from '../lib/overlay';
import { buildSvg } from '../lib/svg';
import type { SyncClient } from '../lib/sync';
import type { DraftMsg, DurableOp, Element, PresenceClient, UpdateSet } from '../lib/types';
import { elementPath, entryPath } from './geometry';
import { PointerInput, type InputHost, type Tool } from './input';
import { Renderer, renderImage, type Cursor, type Draft, type ImageItem, type LiveItem } from './render';
import type { SceneItem } from './select';
import { Viewport } from './viewport';

export type { Tool } from './input';
export { colorFor } from './render';

/** A drawn element with its cached path and bounds. */
interface Cached {
  el: Element;
  path: Path2D | null;
  bbox: BBox;
}

/** How long a quiet remote shape/text/update draft stays (docs/protocol.md: 5 s); strokes: 10 s. */
const DRAFT_TTL_MS = 5000;
const STROKE_DRAFT_TTL_MS = 10000;

function cached(el: Element, prev?: Cached): Cached {
  if (prev && prev.el === el) return prev;
  return { el, path: elementPath(el), bbox: elementBBox(el) };
}

export class BoardView implements InputHost {
  tool: Tool = 'pen';
  color = '#1e1e1e';
  width = 4;
  fill = false;
  readonly history = new History();
  onUi: () => void = () => {};

  private readonly vp: Viewport;
  private readonly renderer: Renderer;
  private readonly input: PointerInput;
  // optimistic overlay of pending ops
  private overrides = new Map<string, boolean>();
  private clearAll = false;
  private pending = new Map<string, Cached & { visible: boolean }>();
  /** committed elements as my pending updates change them */
  private updated = new Map<string, Cached>();
  // live
  private readonly drafts = new Map<string, Draft>();
  private readonly updDrafts = new Map<string, { set: UpdateSet; t: number }>();
  private dragPreview: Map<string, Element> | null = null;
  private editing: string | null = null;
  /** committed elements drawn by the live layer (moved, edited, updated), not by the tiles */
  private liveIds = new Set<string>();
  private sceneCache: SceneItem[] | null = null;
  private readonly draftTimer: number;
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
        items: () => this.liveItems(),
        cursors: this.cursors,
        presence: () => this.presence,
        eraserRing: () => (this.tool === 'eraser' ? this.input.pointerPos : null),
        decorate: (ctx) => {
          if (this.tool === 'select') this.input.select.decorate(ctx);
        },
      },
      { order: () => this.sync.board.order, visible: (e) => this.tileVisible(e) },
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
    this.draftTimer = window.setInterval(() => this.expireDrafts(), 1000);
    const onDpr = () => this.renderer.resize();
    window.addEventListener('resize', onDpr);
    this.unsub.push(() => window.removeEventListener('resize', onDpr));
    this.renderer.resize();
  }

  destroy(): void {
    for (const u of this.unsub) u();
    clearInterval(this.draftTimer);
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
    const o = this.overrides.get(e.el.id);
    if (o !== undefined) return o;
    return this.clearAll ? false : !e.hidden;
  }

  /** Drawn by the tiles: visible and not drawn live (moved, edited, updated). */
  private tileVisible(e: Entry): boolean {
    return this.isVisible(e) && !this.liveIds.has(e.el.id);
  }

  /** Visible element ids in drawing order, including my pending elements. */
  visibleIds(): string[] {
    const out: string[] = [];
    for (const e of this.sync.board.order) if (this.isVisible(e)) out.push(e.el.id);
    for (const [id, p] of this.pending) if (p.visible) out.push(id);
    return out;
  }

  /** Visible elements as shown (my pending ops applied), in drawing order. */
  scene(): SceneItem[] {
    if (this.sceneCache) return this.sceneCache;
    const out: SceneItem[] = [];
    for (const e of this.sync.board.order) {
      if (!this.isVisible(e)) continue;
      const u = this.updated.get(e.el.id);
      out.push(u ? { id: e.el.id, el: u.el, bbox: u.bbox } : { id: e.el.id, el: e.el, bbox: e.bbox });
    }
    for (const [id, p] of this.pending) if (p.visible) out.push({ id, el: p.el, bbox: p.bbox });
    this.sceneCache = out;
    return out;
  }

  item(id: string): SceneItem | null {
    const p = this.pending.get(id);
    if (p) return p.visible ? { id, el: p.el, bbox: p.bbox } : null;
    const e = this.sync.board.byId.get(id);
    if (!e || !this.isVisible(e)) return null;
    const u = this.updated.get(id);
    return u ? { id, el: u.el, bbox: u.bbox } : { id, el: e.el, bbox: e.bbox };
  }

  /** Ids of the selected elements (select tool). */
  selection(): string[] {
    return this.input.select.items().map((i) => i.id);
  }

  private *liveItems(): Iterable<LiveItem> {
    const board = this.sync.board;
    const live = [...this.liveIds].map((id) => board.byId.get(id)).filter((e): e is Entry => !!e && this.isVisible(e) && e.el.id !== this.editing);
    live.sort((a, b) => a.index - b.index);
    for (const e of live) {
      const id = e.el.id;
      const u = this.updated.get(id);
      let el = u?.el ?? e.el;
      let path = u?.path ?? entryPath(e);
      const d = this.updDrafts.get(id);
      if (d) {
        const n = applySet(el, d.set);
        if (n) [el, path] = [n, null];
      }
      const m = this.dragPreview?.get(id);
      if (m) [el, path] = [m, null];
      yield { el, path };
    }
    for (const [id, p] of this.pending) {
      if (!p.visible || id === this.editing) continue;
      const m = this.dragPreview?.get(id);
      yield m ? { el: m, path: null } : p;
    }
    for (const d of this.drafts.values()) {
      d.path ??= elementPath(d.el);
      yield d;
    }
    const cur = this.input.drawing();
    if (cur) yield { el: cur, path: null };
  }

  /** Recompute which committed elements the live layer draws; re-render the tiles under the ones that changed. */
  private refreshLive(): void {
    const next = new Set<string>(this.updated.keys());
    for (const id of this.updDrafts.keys()) next.add(id);
    if (this.dragPreview) for (const id of this.dragPreview.keys()) next.add(id);
    if (this.editing) next.add(this.editing);
    const changed: string[] = [];
    for (const id of next) if (!this.liveIds.has(id)) changed.push(id);
    for (const id of this.liveIds) if (!next.has(id)) changed.push(id);
    this.liveIds = next;
    if (changed.length) this.syncShown(changed);
    this.requestRender();
  }

  preview(m: Map<string, Element> | null): void {
    this.dragPreview = m;
    this.refreshLive();
  }

  setEditing(id: string | null): void {
    this.editing = id;
    this.refreshLive();
  }

  draftUpdate(id: string, set: UpdateSet): void {
    this.sync.sendEphemeral({ t: 'draft', update: { id, set } });
  }

  private refreshOverlay(): void {
    const oldKeys = [...this.overrides.keys()];
    const oldClear = this.clearAll;
    const board = this.sync.board;
    const o = computeOverlay(board, this.sync.pendingOps());
    const pending = new Map<string, Cached & { visible: boolean }>();
    for (const [id, p] of o.strokes) pending.set(id, { ...cached(p.el, this.pending.get(id)), visible: p.visible });
    const updated = new Map<string, Cached>();
    for (const [id, el] of o.updated) updated.set(id, cached(el, this.updated.get(id)));
    // the tiles under an element whose pending value changed
    for (const [id, u] of this.updated) if (updated.get(id) !== u) this.renderer.tiles.invalidate(u.bbox);
    this.overrides = o.overrides;
    this.clearAll = o.clearAll;
    this.pending = pending;
    this.updated = updated;
    this.sceneCache = null;
    if (o.clearAll !== oldClear) {
      for (const e of board.order) e.shown = this.tileVisible(e);
      this.renderer.tiles.invalidateAll();
    } else {
      const ids = new Set([...oldKeys, ...o.overrides.keys()]);
      this.syncShown(ids);
    }
    this.refreshLive();
    this.onUi();
  }

  private syncShown(ids: Iterable<string>): void {
    for (const id of ids) {
      const e = this.sync.board.byId.get(id);
      if (!e) continue;
      const vis = this.tileVisible(e);
      if (e.shown !== vis) {
        e.shown = vis;
        this.renderer.tiles.invalidate(e.bbox);
      }
    }
  }

  private onBoard(c: BoardChange): void {
    const tiles = this.renderer.tiles;
    this.sceneCache = null;
    if (c.kind === 'reset') {
      for (const e of this.sync.board.order) e.shown = this.tileVisible(e);
      tiles.clear();
      this.drafts.clear();
    } else if (c.kind === 'append') {
      const e = c.entry;
      e.shown = this.tileVisible(e);
      if (e.shown) tiles.drawOnTop(e);
      this.drafts.delete(e.el.id);
    } else if (c.kind === 'visibility') {
      if (c.entries.length > 300) {
        for (const e of c.entries) e.shown = this.tileVisible(e);
        tiles.invalidateAll();
      } else {
        this.syncShown(c.entries.map((e) => e.el.id));
      }
    } else if (c.kind === 'update') {
      const e = c.entry;
      tiles.invalidate(c.before);
      tiles.invalidate(e.bbox);
      if (this.updDrafts.delete(e.el.id)) this.refreshLive();
    }
    this.requestRender();
  }

  // ---------- remote live messages ----------

  private onDraft(m: DraftMsg): void {
    const now = performance.now();
    const board = this.sync.board;
    if (m.stroke) {
      const s = m.stroke;
      if (typeof s.id !== 'string' || !Array.isArray(s.points) || board.byId.has(s.id)) return;
      let d = this.drafts.get(s.id);
      if (!d || d.el.type !== undefined) {
        d = { el: { id: s.id, color: s.color, width: s.width, points: [] }, from: m.from ?? '', t: 0, path: null };
        this.drafts.set(s.id, d);
      }
      const pts = (d.el as { points: number[] }).points;
      for (const v of s.points) pts.push(v);
      d.path = null;
      d.t = now;
    } else if (m.shape || m.text) {
      const el = (m.shape ?? m.text)!;
      if (typeof el.id !== 'string' || board.byId.has(el.id)) return;
      this.drafts.set(el.id, { el, from: m.from ?? '', t: now, path: null });
    } else if (m.update) {
      const u = m.update;
      if (!u || typeof u.id !== 'string' || !u.set || typeof u.set !== 'object' || !board.byId.has(u.id)) return;
      const had = this.updDrafts.has(u.id);
      this.updDrafts.set(u.id, { set: u.set, t: now });
      if (!had) this.refreshLive();
    }
    this.requestRender();
  }

  private expireDrafts(): void {
    const now = performance.now();
    let n = 0;
    for (const [id, d] of this.drafts) {
      if (now - d.t > (d.el.type === undefined ? STROKE_DRAFT_TTL_MS : DRAFT_TTL_MS)) {
        this.drafts.delete(id);
        n++;
      }
    }
    let upd = false;
    for (const [id, d] of this.updDrafts) {
      if (now - d.t > DRAFT_TTL_MS) {
        this.updDrafts.delete(id);
        upd = true;
      }
    }
    if (upd) this.refreshLive();
    else if (n) this.requestRender();
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
    for (const op of this.history.undo(newOpId)) this.submit(op);
    this.onUi();
  }

  redo(): void {
    for (const op of this.history.redo(newOpId)) this.submit(op);
    this.onUi();
  }

  /** Select tool: erase the selection; returns how many elements. */
  deleteSelected(): number {
    return this.input.select.deleteSelected();
  }

  /** Select tool: duplicate the selection; returns how many elements. */
  duplicateSelected(): number {
    return this.input.select.duplicateSelected();
  }

  /** Restyle the selection (select tool); false when nothing is selected. */
  restyleSelection(set: { color?: string; width?: number }): boolean {
    return this.tool === 'select' && this.input.select.restyle(set);
  }

  clearSelection(): void {
    this.input.select.clear();
  }

  /** Select everything visible (select tool). */
  selectAll(): void {
    this.input.select.select(this.scene().map((i) => i.id));
  }

  /** Leave the current tool's transient state (selection, text being typed). */
  toolChanged(): void {
    this.input.editor?.finish();
    if (this.tool !== 'select') this.input.select.clear();
    this.requestRender();
  }

  /** Clear the board; returns the number of elements hidden. Undoable (restore of those ids). */
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

  /** The visible board (committed and pending, at most `limit` committed elements) as an image. */
  private renderAll(maxDim: number, maxScale: number, pad: number, limit = Infinity): HTMLCanvasElement | null {
    const items: ImageItem[] = [];
    for (const it of this.scene()) {
      if (items.length >= limit) break;
      const e = this.sync.board.byId.get(it.id);
      const path = e && e.el === it.el ? entryPath(e) : elementPath(it.el);
      items.push({ el: it.el, path, b: it.bbox });
    }
    return renderImage(items, maxDim, maxScale, pad);
  }

  async exportPng(): Promise<Blob | null> {
    const c = this.renderAll(4096, 2, 24);
    if (!c) return null;
    return new Promise((res) => c.toBlob(res, 'image/png'));
  }

  /** The visible board as an SVG document (vector paths, text as text), or null for an empty board. */
  exportSvg(): string | null {
    return buildSvg(this.scene().map((i) => i.el), 24);
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
