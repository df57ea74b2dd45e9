// The committed-stroke layer, cached as tiles of TILE x TILE device pixels.
// A tile level K is "device pixels per world unit" at which its tiles were
// rendered. Panning only blits cached tiles; zooming shows the old level
// scaled until the view settles, then renders the new level progressively,
// using the old level as a fallback meanwhile.
//
// Tile rendering is resumable: a tile is rendered into a work surface stroke
// by stroke until the frame's time budget is spent, and continues on the next
// frame; only a complete render replaces the tile's image (so an erase never
// flickers: the stale image stays up until the new one is complete). New
// strokes are drawn incrementally on top of the complete tiles they touch
// (they are last in drawing order); erase/restore/update re-render just the
// tiles under that element (an update: under its old and new bounds).

import type { BBox, Entry } from '../lib/board';
import { drawElement, entryPath, intersects } from './geometry';

export const TILE = 512;
const MAX_TILES = 96;
const MAX_POOL = 8;

type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

export interface Surface {
  canvas: AnyCanvas;
  ctx: Ctx2D;
}

interface Tile {
  k: number;
  i: number;
  j: number;
  /** last complete render (may be stale when dirty), or null */
  img: Surface | null;
  /** render in progress: surface and the next index in drawing order */
  work: { s: Surface; next: number } | null;
  dirty: boolean;
  used: number;
}

export interface TileSource {
  order(): readonly Entry[];
  visible(e: Entry): boolean;
}

export interface ViewXf {
  /** device pixels per world unit */
  S: number;
  /** world origin in device pixels */
  ox: number;
  oy: number;
  /** canvas size in device pixels */
  w: number;
  h: number;
}

function makeSurface(): Surface {
  let canvas: AnyCanvas;
  if (typeof OffscreenCanvas !== 'undefined') canvas = new OffscreenCanvas(TILE, TILE);
  else {
    canvas = document.createElement('canvas');
    canvas.width = canvas.height = TILE;
  }
  return { canvas, ctx: canvas.getContext('2d') as Ctx2D };
}

export class TileLayer {
  private tiles = new Map<string, Tile>();
  private pool: Surface[] = [];
  private frame = 0;
  /** strokes painted into tiles during the last compose (for stats) */
  painted = 0;

  constructor(
    private readonly src: TileSource,
    private readonly newSurface: () => Surface = makeSurface,
  ) {}

  private static key(k: number, i: number, j: number): string {
    return k + '|' + i + '|' + j;
  }

  get size(): number {
    return this.tiles.size;
  }

  private release(s: Surface | null): void {
    if (s && this.pool.length < MAX_POOL) this.pool.push(s);
  }

  private drop(key: string, t: Tile): void {
    this.tiles.delete(key);
    this.release(t.img);
    this.release(t.work?.s ?? null);
  }

  clear(): void {
    for (const [key, t] of this.tiles) this.drop(key, t);
  }

  private markDirty(t: Tile): void {
    t.dirty = true;
    if (t.work) t.work.next = -1; // restart from scratch
  }

  invalidateAll(): void {
    for (const t of this.tiles.values()) this.markDirty(t);
  }

  private tileWorld(t: { k: number; i: number; j: number }): [number, number, number, number] {
    const s = TILE / t.k;
    return [t.i * s, t.j * s, (t.i + 1) * s, (t.j + 1) * s];
  }

  invalidate(b: BBox): void {
    for (const t of this.tiles.values()) {
      const [x0, y0, x1, y1] = this.tileWorld(t);
      if (intersects(b, x0, y0, x1, y1)) this.markDirty(t);
    }
  }

  /** Draw a newly appended stroke on every complete cached tile it touches. */
  drawOnTop(e: Entry): void {
    for (const t of this.tiles.values()) {
      // a dirty tile is being (or will be) re-rendered and reaches this stroke itself
      if (t.dirty || !t.img) continue;
      const [x0, y0, x1, y1] = this.tileWorld(t);
      if (!intersects(e.bbox, x0, y0, x1, y1)) continue;
      const ctx = t.img.ctx;
      ctx.setTransform(t.k, 0, 0, t.k, -t.i * TILE, -t.j * TILE);
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      this.paint(ctx, e, t.k);
    }
  }

  private paint(ctx: Ctx2D, e: Entry, k: number): void {
    const b = e.bbox;
    if ((b.maxX - b.minX) * k < 1.5 && (b.maxY - b.minY) * k < 1.5) {
      // smaller than a pixel or two: a dot is enough
      ctx.fillStyle = e.el.color;
      ctx.fillRect(b.minX, b.minY, Math.max(b.maxX - b.minX, 1 / k), Math.max(b.maxY - b.minY, 1 / k));
      return;
    }
    drawElement(ctx, e.el, entryPath(e));
  }

  /** Continue rendering tile t until done or past the deadline. Returns true when complete. */
  private step(t: Tile, deadline: number): boolean {
    if (!t.work) t.work = { s: this.pool.pop() ?? this.newSurface(), next: -1 };
    const w = t.work;
    const ctx = w.s.ctx;
    if (w.next < 0) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, TILE, TILE);
      w.next = 0;
    }
    ctx.setTransform(t.k, 0, 0, t.k, -t.i * TILE, -t.j * TILE);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const [x0, y0, x1, y1] = this.tileWorld(t);
    const order = this.src.order();
    let n = w.next;
    let painted = 0;
    for (; n < order.length; n++) {
      const e = order[n];
      if (!intersects(e.bbox, x0, y0, x1, y1) || !this.src.visible(e)) {
        if ((n & 4095) === 4095 && performance.now() > deadline) break;
        continue;
      }
      this.paint(ctx, e, t.k);
      painted++;
      if ((painted & 15) === 0 && performance.now() > deadline) {
        n++;
        break;
      }
    }
    this.painted += painted;
    w.next = n;
    if (n < order.length) return false;
    // complete: the work surface becomes the tile's image
    this.release(t.img);
    t.img = w.s;
    t.work = null;
    t.dirty = false;
    return true;
  }

  /**
   * Draw the layer for view `v` using tiles of level `K`. Renders missing or
   * dirty tiles while `deadline` (performance.now()) is not passed. Returns
   * true when every visible tile was complete and up to date.
   */
  compose(ctx: CanvasRenderingContext2D, v: ViewXf, K: number, fallbackK: number | null, deadline: number): boolean {
    this.frame++;
    this.painted = 0;
    const ratio = v.S / K;
    const step = TILE * ratio; // tile size on screen
    const i0 = Math.floor(-v.ox / step), i1 = Math.ceil((v.w - v.ox) / step) - 1;
    const j0 = Math.floor(-v.oy / step), j1 = Math.ceil((v.h - v.oy) / step) - 1;
    let complete = true;
    ctx.imageSmoothingEnabled = ratio !== 1;
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const x0 = Math.round(v.ox + i * step), x1 = Math.round(v.ox + (i + 1) * step);
        const y0 = Math.round(v.oy + j * step), y1 = Math.round(v.oy + (j + 1) * step);
        const key = TileLayer.key(K, i, j);
        let t = this.tiles.get(key);
        if (!t) {
          t = { k: K, i, j, img: null, work: null, dirty: true, used: 0 };
          this.tiles.set(key, t);
        }
        t.used = this.frame;
        if (t.dirty && !(performance.now() < deadline && this.step(t, deadline))) complete = false;
        if (t.img) ctx.drawImage(t.img.canvas as CanvasImageSource, x0, y0, x1 - x0, y1 - y0);
        else if (fallbackK !== null && fallbackK !== K) this.drawFallback(ctx, v, fallbackK, K, i, j, x0, y0, x1, y1);
      }
    }
    ctx.imageSmoothingEnabled = true;
    this.evict();
    return complete;
  }

  private drawFallback(ctx: CanvasRenderingContext2D, v: ViewXf, FK: number, K: number, i: number, j: number, x0: number, y0: number, x1: number, y1: number): void {
    // world rect of the missing tile -> the fallback level's tiles covering it
    const ws = TILE / K;
    const fs = TILE / FK;
    const fi0 = Math.floor((i * ws) / fs), fi1 = Math.floor(((i + 1) * ws - 1e-9) / fs);
    const fj0 = Math.floor((j * ws) / fs), fj1 = Math.floor(((j + 1) * ws - 1e-9) / fs);
    if ((fi1 - fi0 + 1) * (fj1 - fj0 + 1) > 64) return;
    const fstep = TILE * (v.S / FK);
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, y0, x1 - x0, y1 - y0);
    ctx.clip();
    ctx.imageSmoothingEnabled = true;
    for (let fj = fj0; fj <= fj1; fj++) {
      for (let fi = fi0; fi <= fi1; fi++) {
        const ft = this.tiles.get(TileLayer.key(FK, fi, fj));
        if (!ft || !ft.img) continue;
        ft.used = this.frame;
        ctx.drawImage(ft.img.canvas as CanvasImageSource, v.ox + fi * fstep, v.oy + fj * fstep, fstep, fstep);
      }
    }
    ctx.restore();
  }

  /** Drop all tiles of levels other than `keep` (after a new level is complete). */
  dropLevelsExcept(keep: number): void {
    for (const [key, t] of this.tiles) if (t.k !== keep) this.drop(key, t);
  }

  private evict(): void {
    if (this.tiles.size <= MAX_TILES) return;
    const list = [...this.tiles.entries()].filter(([, t]) => t.used !== this.frame).sort((a, b) => a[1].used - b[1].used);
    for (const [key, t] of list) {
      if (this.tiles.size <= MAX_TILES) break;
      this.drop(key, t);
    }
  }
}
