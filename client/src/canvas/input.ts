// PointerInput: pointer, touch and wheel input on the canvas: drawing with
// the pen (smoothing, drafts while drawing, the stroke op at the end),
// shapes (shapeTool.ts), text (textEdit.ts), selection (select.ts), erasing,
// panning (hand tool, space, middle or right button, wheel) and pinch zoom;
// sends my cursor, throttled. Part of BoardView.

import type { Entry } from '../lib/board';
import { isText } from '../lib/elements';
import type { History } from '../lib/history';
import { newOpId } from '../lib/ids';
import type { SyncClient } from '../lib/sync';
import { COORD_LIMIT, MAX_POINTS, type Element, type ShapeKind, type Stroke, type Text } from '../lib/types';
import { hitElement, round1 } from './geometry';
import { SelectTool, type SelectHost } from './select';
import { ShapeDraw } from './shapeTool';
import { TextEditor } from './textEdit';
import type { Viewport } from './viewport';

export type Tool = 'pen' | 'eraser' | 'hand' | 'select' | 'text' | ShapeKind;

export const isShapeTool = (t: Tool): t is ShapeKind => t === 'rect' || t === 'ellipse' || t === 'line' || t === 'arrow';

/** Font size of new text for a pen width (the width buttons pick the text size too). */
export const textSizeFor = (width: number): number => ({ 2: 16, 4: 24, 8: 36, 16: 56 })[width] ?? Math.min(1000, 12 + 3 * width);

const DRAFT_MS = 33;
const CURSOR_MS = 50;

/** What input needs from the board view. */
export interface InputHost extends SelectHost {
  readonly tool: Tool;
  readonly color: string;
  readonly width: number;
  /** new rectangles and ellipses are filled (a tint of the colour) */
  readonly fill: boolean;
  readonly history: History;
  isVisible(e: Entry): boolean;
  /** the element (text) being edited in place: hidden from the canvas while the editor shows it */
  setEditing(id: string | null): void;
}

interface Current {
  stroke: Stroke;
  sentPoints: number; // numbers (not points) already sent as draft
  lastDraft: number;
  sx: number; // smoothed input
  sy: number;
}

export class PointerInput {
  /** the stroke being drawn (the renderer shows it) */
  current: Current | null = null;
  /** the pointer over the canvas, css px (the renderer draws the eraser ring there) */
  pointerPos: { x: number; y: number } | null = null;
  /** the shape being dragged out */
  shape: ShapeDraw | null = null;
  /** the text being typed */
  editor: TextEditor | null = null;
  readonly select: SelectTool;
  private erasing: { ids: Set<string> } | null = null;
  private panning: { x: number; y: number } | null = null;
  private pointers = new Map<number, { x: number; y: number }>();
  private pinch: { dist: number; cx: number; cy: number } | null = null;
  private spaceDown = false;
  private lastCursorSent = 0;
  private lastShapeDraft = 0;
  private cursorLatest: { x: number; y: number } | null = null;
  private cursorTimer = 0;
  private readonly unsub: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly vp: Viewport,
    private readonly sync: SyncClient,
    private readonly host: InputHost,
  ) {
    const h = (e: PointerEvent) => this.onPointer(e);
    for (const t of ['pointerdown', 'pointermove', 'pointerup', 'pointercancel', 'pointerleave'] as const) {
      canvas.addEventListener(t, h);
      this.unsub.push(() => canvas.removeEventListener(t, h));
    }
    this.select = new SelectTool(vp, host);
    const w = (e: WheelEvent) => this.onWheel(e);
    canvas.addEventListener('wheel', w, { passive: false });
    this.unsub.push(() => canvas.removeEventListener('wheel', w));
    const dbl = (e: MouseEvent) => this.onDoubleClick(e);
    canvas.addEventListener('dblclick', dbl);
    this.unsub.push(() => canvas.removeEventListener('dblclick', dbl));
    const cm = (e: Event) => e.preventDefault();
    canvas.addEventListener('contextmenu', cm);
    this.unsub.push(() => canvas.removeEventListener('contextmenu', cm));
  }

  destroy(): void {
    for (const u of this.unsub) u();
    clearTimeout(this.cursorTimer);
    this.editor?.finish();
  }

  /** What is being drawn right now (the stroke, shape or text), for the live layer. */
  drawing(): Element | null {
    return this.current?.stroke ?? this.shape?.shape ?? null;
  }

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
    const k = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.vp.cssH : 1;
    const [cx, cy] = this.local(e);
    if (e.ctrlKey || e.metaKey) {
      // trackpad pinch (ctrlKey) or ctrl+wheel: zoom around the pointer
      this.vp.zoomAt(Math.exp(-e.deltaY * k * 0.01), cx, cy);
    } else if (e.shiftKey && e.deltaX === 0) {
      this.vp.panBy(-e.deltaY * k, 0);
    } else {
      this.vp.panBy(-e.deltaX * k, -e.deltaY * k);
    }
  }

  private onPointer(e: PointerEvent): void {
    const [x, y] = this.local(e);
    const tool = this.host.tool;
    switch (e.type) {
      case 'pointerdown': {
        this.canvas.setPointerCapture?.(e.pointerId);
        if (e.pointerType === 'touch') {
          this.pointers.set(e.pointerId, { x, y });
          if (this.pointers.size === 2) {
            // second finger: a pinch/pan gesture, drop the stroke just started
            this.current = null;
            this.shape = null;
            this.select.cancel();
            this.erasing = null;
            this.panning = null;
            this.pinch = this.pinchState();
            this.host.requestRender();
            return;
          }
          if (this.pointers.size > 2) return;
        }
        if (e.button === 1 || e.button === 2 || tool === 'hand' || this.spaceDown) {
          this.panning = { x, y };
          this.canvas.dataset.panning = '1';
          return;
        }
        if (e.button !== 0) return;
        const [wx, wy] = this.vp.toWorld(x, y);
        if (tool === 'pen') this.beginStroke(x, y);
        else if (isShapeTool(tool)) {
          this.shape = new ShapeDraw(newOpId(), tool, this.clampW(wx), this.clampW(wy), this.host);
          this.host.requestRender();
        } else if (tool === 'text') {
          e.preventDefault();
          this.openText(wx, wy);
        } else if (tool === 'select') {
          this.select.down(wx, wy, e.shiftKey);
          this.host.requestRender();
        } else if (tool === 'eraser') {
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
          this.vp.panBy(p.cx - this.pinch.cx, p.cy - this.pinch.cy);
          if (this.pinch.dist > 0) this.vp.zoomAt(p.dist / this.pinch.dist, p.cx, p.cy);
          this.pinch = p;
          return;
        }
        if (this.panning) {
          this.vp.panBy(x - this.panning.x, y - this.panning.y);
          this.panning = { x, y };
          return;
        }
        if (this.current) {
          const evs = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
          if (evs.length > 1) for (const ce of evs) this.extendStroke(...this.local(ce));
          else this.extendStroke(x, y);
        } else if (this.shape) {
          const [wx, wy] = this.vp.toWorld(x, y);
          this.shape.move(this.clampW(wx), this.clampW(wy), e.shiftKey);
          this.sendShapeDraft(false);
          this.host.requestRender();
        } else if (this.select.dragging) {
          const [wx, wy] = this.vp.toWorld(x, y);
          this.select.move(this.clampW(wx), this.clampW(wy));
          this.host.requestRender();
        } else if (this.erasing) {
          this.eraseAt(x, y);
        }
        this.sendCursor(x, y);
        if (tool === 'eraser') this.host.requestRender();
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
        if (this.shape) {
          if (e.type === 'pointerup') {
            const [wx, wy] = this.vp.toWorld(x, y);
            this.shape.move(this.clampW(wx), this.clampW(wy), e.shiftKey);
          }
          this.endShape(e.type === 'pointercancel');
        }
        if (this.select.dragging) {
          if (e.type === 'pointerup') {
            const [wx, wy] = this.vp.toWorld(x, y);
            this.select.move(this.clampW(wx), this.clampW(wy));
            this.select.up();
          } else this.select.cancel();
          this.host.requestRender();
        }
        if (this.erasing) {
          this.host.history.push({ kind: 'erase', ids: [...this.erasing.ids] });
          this.erasing = null;
          this.host.onUi();
        }
        return;
      }
      case 'pointerleave':
        this.pointerPos = null;
        this.host.requestRender();
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
    const [wx, wy] = this.vp.toWorld(x, y);
    this.current = {
      stroke: { id: newOpId(), color: this.host.color, width: this.host.width, points: [this.clampW(wx), this.clampW(wy)] },
      sentPoints: 0,
      lastDraft: 0,
      sx: wx,
      sy: wy,
    };
    this.sendDraft(true);
    this.host.requestRender();
  }

  private extendStroke(x: number, y: number, final = false): void {
    const c = this.current!;
    const [wx, wy] = this.vp.toWorld(x, y);
    // light stabiliser: follow the pointer with a little inertia
    const a = final ? 1 : 0.6;
    c.sx += (wx - c.sx) * a;
    c.sy += (wy - c.sy) * a;
    const p = c.stroke.points;
    const px = this.clampW(c.sx), py = this.clampW(c.sy);
    const lx = p[p.length - 2], ly = p[p.length - 1];
    const min = 1 / this.vp.scale;
    if (Math.abs(px - lx) < min && Math.abs(py - ly) < min) return;
    p.push(px, py);
    if (p.length >= MAX_POINTS * 2) {
      // the protocol's limit: finish this stroke and continue with a new one
      this.endStroke(false);
      this.current = {
        stroke: { id: newOpId(), color: this.host.color, width: this.host.width, points: [px, py] },
        sentPoints: 0,
        lastDraft: 0,
        sx: c.sx,
        sy: c.sy,
      };
    }
    this.sendDraft(false);
    this.host.requestRender();
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
      this.host.requestRender();
      return;
    }
    const s = c.stroke;
    const stroke: Stroke = { id: s.id, color: s.color, width: s.width, points: s.points };
    this.host.submit({ t: 'stroke', op: newOpId(), stroke });
    this.host.history.push({ kind: 'stroke', ids: [s.id] });
    this.host.onUi();
  }

  private sendCursor(x: number, y: number): void {
    // throttled, with a trailing send so that the last position always goes out
    const [wx, wy] = this.vp.toWorld(x, y);
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
    const [wx, wy] = this.vp.toWorld(x, y);
    const r = 6 / this.vp.scale;
    const hits: string[] = [];
    for (const it of this.host.scene()) {
      const b = it.bbox;
      if (wx < b.minX - r || wx > b.maxX + r || wy < b.minY - r || wy > b.maxY + r) continue;
      if (er.ids.has(it.id)) continue;
      if (hitElement(it.el, b, wx, wy, r)) hits.push(it.id);
    }
    if (hits.length === 0) return;
    for (const id of hits) er.ids.add(id);
    this.host.submit({ t: 'erase', op: newOpId(), ids: hits });
  }

  /** Select tool: a double click on a text edits it. */
  private onDoubleClick(e: MouseEvent): void {
    if (this.host.tool !== 'select') return;
    const [wx, wy] = this.vp.toWorld(...this.local(e));
    const hit = this.select.hit(wx, wy, 4 / this.vp.scale);
    if (hit && isText(hit.el)) {
      this.select.clear();
      this.editText(hit.el);
    }
  }

  // ---------- shapes ----------

  private sendShapeDraft(force: boolean): void {
    const s = this.shape;
    if (!s) return;
    const now = performance.now();
    if (!force && now - this.lastShapeDraft < DRAFT_MS) return;
    this.lastShapeDraft = now;
    this.sync.sendEphemeral({ t: 'draft', shape: { ...s.shape } });
  }

  private endShape(cancel: boolean): void {
    const s = this.shape;
    this.shape = null;
    this.host.requestRender();
    if (!s || cancel || !s.isReal(2 / this.vp.scale)) return;
    this.host.submit({ t: 'shape', op: newOpId(), shape: { ...s.shape } });
    this.host.history.push({ kind: 'stroke', ids: [s.shape.id] });
    this.host.onUi();
  }

  // ---------- text ----------

  /** Open the text editor at a world point: on the text there (edit it) or a new text. */
  openText(wx: number, wy: number): void {
    if (this.editor) {
      this.editor.finish();
      return; // a click elsewhere only finishes the text being typed
    }
    const hit = this.select.hit(wx, wy, 2 / this.vp.scale);
    if (hit && isText(hit.el)) {
      this.editText(hit.el);
      return;
    }
    const size = textSizeFor(this.host.width);
    const t: Text = { type: 'text', id: newOpId(), x: this.clampW(wx), y: this.clampW(wy - size * 0.6), size, color: this.host.color, text: '' };
    this.startEditor(t, null);
  }

  /** Edit an existing text in place. */
  editText(t: Text): void {
    if (this.editor) this.editor.finish();
    this.host.setEditing(t.id);
    this.startEditor(t, t);
  }

  private startEditor(t: Text, original: Text | null): void {
    this.editor = new TextEditor(this.canvas, this.vp, {
      draft: (x) => {
        if (original) this.sync.sendEphemeral({ t: 'draft', update: { id: x.id, set: { text: x.text } } });
        else this.sync.sendEphemeral({ t: 'draft', text: x });
      },
      done: (x, orig) => this.textDone(x, orig),
    }, t, original);
  }

  private textDone(t: Text | null, original: Text | null): void {
    this.editor = null;
    this.host.setEditing(null);
    if (original) {
      if (!t) {
        this.host.submit({ t: 'erase', op: newOpId(), ids: [original.id] });
        this.host.history.push({ kind: 'erase', ids: [original.id] });
      } else if (t.text !== original.text) {
        this.host.submit({ t: 'update', op: newOpId(), id: original.id, set: { text: t.text } });
        this.host.history.push({ kind: 'update', changes: [{ id: original.id, before: { text: original.text }, after: { text: t.text } }] });
      }
    } else if (t) {
      this.host.submit({ t: 'text', op: newOpId(), text: t });
      this.host.history.push({ kind: 'stroke', ids: [t.id] });
    }
    this.host.requestRender();
    this.host.onUi();
  }
}
