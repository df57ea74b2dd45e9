// The committed-stroke layer, cached as tiles of TILE x TILE device pixels.
// A tile level K is "device pixels per world unit" at which its tiles were
// rendered. Panning only blits cached tiles; zooming shows the old level
// scaled until the view settles, then renders the new level progressively
// (a per-frame time budget), using the old level as a fallback meanwhile.
// New strokes are drawn incrementally on top of the cached tiles they touch
// (they are last in drawing order); erase/restore re-render just the tiles
// whose area the stroke covers.

import type { BBox, Entry } from '../lib/board';
import { entryPath, intersects } from './geometry';

export const TILE = 512;
const MAX_TILES = 96;

type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

interface Tile {
  k: number;
  i: number;
  j: number;
  canvas: AnyCanvas;
  ctx: Ctx2D;
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

function makeCanvas(): AnyCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(TILE, TILE);
  const c = document.createElement('canvas');
  c.width = c.height = TILE;
  return c;
}

export class TileLayer {
  private tiles = new Map<string, Tile>();
  private pool: Tile[] = [];
  private frame = 0;
  /** tiles rendered in the last compose (for stats) */
  rendered = 0;

  constructor(private readonly src: TileSource) {}

  private static key(k: number, i: number, j: number): string {
    return k + '|' + i + '|' + j;
  }

  get size(): number {
    return this.tiles.size;
  }

  clear(): void {
    for (const t of this.tiles.values()) this.pool.push(t);
    this.tiles.clear();
  }

  invalidateAll(): void {
    for (const t of this.tiles.values()) t.dirty = true;
  }

  private tileWorld(t: { k: number; i: number; j: number }): [number, number, number, number] {
    const s = TILE / t.k;
    return [t.i * s, t.j * s, (t.i + 1) * s, (t.j + 1) * s];
  }

  invalidate(b: BBox): void {
    for (const t of this.tiles.values()) {
      if (t.dirty) continue;
      const [x0, y0, x1, y1] = this.tileWorld(t);
      if (intersects(b, x0, y0, x1, y1)) t.dirty = true;
    }
  }

  /** Draw a newly appended stroke on every clean cached tile it touches. */
  drawOnTop(e: Entry): void {
    for (const t of this.tiles.values()) {
      if (t.dirty) continue;
      const [x0, y0, x1, y1] = this.tileWorld(t);
      if (!intersects(e.bbox, x0, y0, x1, y1)) continue;
      t.ctx.setTransform(t.k, 0, 0, t.k, -t.i * TILE, -t.j * TILE);
      this.paint(t.ctx, e, t.k);
    }
  }

  private paint(ctx: Ctx2D, e: Entry, k: number): void {
    const b = e.bbox;
    const s = e.stroke;
    if ((b.maxX - b.minX) * k < 1.5 && (b.maxY - b.minY) * k < 1.5) {
      // smaller than a pixel or two: a dot is enough
      ctx.fillStyle = s.color;
      ctx.fillRect(b.minX, b.minY, Math.max(b.maxX - b.minX, 1 / k), Math.max(b.maxY - b.minY, 1 / k));
      return;
    }
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width;
    ctx.stroke(entryPath(e));
  }

  private render(t: Tile): void {
    const ctx = t.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, TILE, TILE);
    ctx.setTransform(t.k, 0, 0, t.k, -t.i * TILE, -t.j * TILE);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const [x0, y0, x1, y1] = this.tileWorld(t);
    const order = this.src.order();
    for (let n = 0; n < order.length; n++) {
      const e = order[n];
      if (!intersects(e.bbox, x0, y0, x1, y1) || !this.src.visible(e)) continue;
      this.paint(ctx, e, t.k);
    }
    t.dirty = false;
  }

  private obtain(k: number, i: number, j: number): Tile {
    let t = this.pool.pop();
    if (t) {
      t.k = k;
      t.i = i;
      t.j = j;
      t.dirty = true;
    } else {
      const canvas = makeCanvas();
      const ctx = canvas.getContext('2d') as Ctx2D;
      t = { k, i, j, canvas, ctx, dirty: true, used: 0 };
    }
    this.tiles.set(TileLayer.key(k, i, j), t);
    return t;
  }

  /**
   * Draw the layer for view `v` using tiles of level `K`. Renders missing or
   * dirty tiles while `deadline` (performance.now()) is not passed. Returns
   * true when every visible tile was up to date.
   */
  compose(ctx: CanvasRenderingContext2D, v: ViewXf, K: number, fallbackK: number | null, deadline: number): boolean {
    this.frame++;
    this.rendered = 0;
    const ratio = v.S / K;
    const step = TILE * ratio; // tile size on screen
    const i0 = Math.floor(-v.ox / step), i1 = Math.floor((v.w - v.ox) / step);
    const j0 = Math.floor(-v.oy / step), j1 = Math.floor((v.h - v.oy) / step);
    let complete = true;
    const stale: [Tile | null, number, number, number, number, number, number][] = [];
    ctx.imageSmoothingEnabled = ratio !== 1;
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const x0 = Math.round(v.ox + i * step), x1 = Math.round(v.ox + (i + 1) * step);
        const y0 = Math.round(v.oy + j * step), y1 = Math.round(v.oy + (j + 1) * step);
        let t = this.tiles.get(TileLayer.key(K, i, j)) ?? null;
        if (!t || t.dirty) {
          if (performance.now() < deadline) {
            if (!t) t = this.obtain(K, i, j);
            this.render(t);
            this.rendered++;
          } else {
            complete = false;
          }
        }
        if (t) t.used = this.frame;
        if (t && !t.dirty) ctx.drawImage(t.canvas as CanvasImageSource, x0, y0, x1 - x0, y1 - y0);
        else stale.push([t, i, j, x0, y0, x1, y1]);
      }
    }
    // not rendered in time: show the stale tile or the previous level, scaled
    for (const [t, i, j, x0, y0, x1, y1] of stale) {
      if (t) {
        ctx.drawImage(t.canvas as CanvasImageSource, x0, y0, x1 - x0, y1 - y0);
        continue;
      }
      if (fallbackK === null || fallbackK === K) continue;
      this.drawFallback(ctx, v, fallbackK, K, i, j, x0, y0, x1, y1);
    }
    this.evict();
    return complete;
  }

  private drawFallback(ctx: CanvasRenderingContext2D, v: ViewXf, FK: number, K: number, i: number, j: number, x0: number, y0: number, x1: number, y1: number): void {
    // world rect of the missing tile -> fallback tiles covering it
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
        if (!ft) continue;
        ft.used = this.frame;
        ctx.drawImage(ft.canvas as CanvasImageSource, v.ox + fi * fstep, v.oy + fj * fstep, fstep, fstep);
      }
    }
    ctx.restore();
  }

  /** Drop all tiles of levels other than `keep` (after a new level is complete). */
  dropLevelsExcept(keep: number): void {
    for (const [key, t] of this.tiles) {
      if (t.k !== keep) {
        this.tiles.delete(key);
        this.pool.push(t);
      }
    }
  }

  private evict(): void {
    if (this.tiles.size <= MAX_TILES) return;
    const list = [...this.tiles.entries()].filter(([, t]) => t.used !== this.frame).sort((a, b) => a[1].used - b[1].used);
    for (const [key, t] of list) {
      if (this.tiles.size <= MAX_TILES) break;
      this.tiles.delete(key);
      if (this.pool.length < 8) this.pool.push(t);
    }
  }
}
