// Renderer: draws the board into the canvas, at most once per animation
// frame: the committed elements from the tile cache, the live layer (my
// pending elements, remote drafts, what is being drawn or moved), the eraser
// ring, the selection and remote cursors. Also whole-board images for export. Part of BoardView.

import type { BBox } from '../lib/elements';
import type { Element, PresenceClient } from '../lib/types';
import { drawElement, elementPath } from './geometry';
import { TileLayer, type TileSource } from './tiles';
import { SETTLE_MS, type Viewport } from './viewport';

/** A remote element being drawn (a stroke assembled from its drafts, or the last shape/text draft). */
export interface Draft {
  el: Element;
  from: string;
  t: number;
  path: Path2D | null;
}

/** A remote pointer, in world coordinates. */
export interface Cursor {
  x: number;
  y: number;
  name: string;
  t: number;
}

/** An element drawn above the tiles; `path` is built when null (and the element is not text). */
export interface LiveItem {
  el: Element;
  path: Path2D | null;
}

/** What the live layer shows; the renderer drops cursors that went quiet. */
export interface LiveLayer {
  /** in drawing order: elements being moved or restyled, my pending elements, remote drafts, what I am drawing */
  items(): Iterable<LiveItem>;
  readonly cursors: Map<string, Cursor>;
  presence(): Map<string, PresenceClient>;
  /** where to draw the eraser ring (css px), if anywhere */
  eraserRing(): { x: number; y: number } | null;
  /** screen-space decorations (selection, handles, rubber band), drawn in css px */
  decorate(ctx: CanvasRenderingContext2D): void;
}

export function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 70% 45%)`;
}

export class Renderer {
  /** last frame render times (ms) */
  readonly frameTimes: number[] = [];
  readonly tiles: TileLayer;
  private readonly ctx: CanvasRenderingContext2D;
  private dpr = 1;
  private K = 1; // current tile level
  private prevK: number | null = null;
  private raf = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly vp: Viewport,
    private readonly live: LiveLayer,
    committed: TileSource,
  ) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    this.tiles = new TileLayer(committed);
  }

  destroy(): void {
    cancelAnimationFrame(this.raf);
  }

  /** Follows the canvas' css size and the device pixel ratio. */
  resize(): void {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    this.vp.cssW = r.width;
    this.vp.cssH = r.height;
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
    const vp = this.vp;
    const W = this.canvas.width, H = this.canvas.height;
    const S = vp.scale * dpr;
    const ox = vp.ox * dpr, oy = vp.oy * dpr;

    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#fbfbfa';
    ctx.fillRect(0, 0, W, H);
    this.drawGrid(ctx, S, ox, oy, W, H);

    // committed strokes: tiles
    const zooming = t0 - vp.lastZoomAt < SETTLE_MS;
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
    for (const it of this.live.items()) drawElement(ctx, it.el, it.path ?? elementPath(it.el));
    const now = performance.now();

    // screen space: eraser ring and remote cursors
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ring = this.live.eraserRing();
    if (ring) {
      ctx.beginPath();
      ctx.arc(ring.x, ring.y, 6, 0, Math.PI * 2);
      ctx.strokeStyle = 'rgba(30,30,30,.55)';
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    this.live.decorate(ctx);
    const presence = this.live.presence();
    for (const [id, c] of this.live.cursors) {
      const age = now - c.t;
      if (age > 30000) {
        this.live.cursors.delete(id);
        continue;
      }
      const p = presence.get(id);
      this.drawCursor(ctx, c.x * vp.scale + vp.ox, c.y * vp.scale + vp.oy, p?.name || c.name || 'guest', p?.color || colorFor(id), age > 10000 ? 0.35 : 1);
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

export interface ImageItem {
  el: Element;
  path: Path2D | null;
  b: BBox;
}

/** The given elements (their bounding box plus pad) on white, in a new canvas of at most maxDim px. */
export function renderImage(entries: ImageItem[], maxDim: number, maxScale: number, pad: number): HTMLCanvasElement | null {
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
  for (const { el, path } of entries) drawElement(ctx, el, path);
  return c;
}
