// Viewport: the view transform of the infinite canvas: css px per world unit
// (scale) and the world origin in css px (ox, oy); pan and zoom. Part of
// BoardView, which tells it the canvas size and hears every change.

import { COORD_LIMIT } from '../lib/types';

const MIN_SCALE = 0.02;
const MAX_SCALE = 32;
/** how long after the last zoom step the view still counts as zooming (ms) */
export const SETTLE_MS = 160;

export class Viewport {
  /** css px per world unit, and world origin in css px */
  scale = 1;
  ox = 0;
  oy = 0;
  /** canvas size in css px */
  cssW = 0;
  cssH = 0;
  /** performance.now() of the last zoom step */
  lastZoomAt = -1e9;
  private settleTimer = 0;

  /** `changed(ui)`: the view moved; `ui` when the toolbar shows the change (zoom level). */
  constructor(private readonly changed: (ui: boolean) => void) {}

  destroy(): void {
    clearTimeout(this.settleTimer);
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
    this.settleTimer = window.setTimeout(() => this.changed(false), SETTLE_MS + 10);
    this.changed(true);
  }

  zoomBy(factor: number): void {
    this.zoomAt(factor, this.cssW / 2, this.cssH / 2);
  }

  panBy(dx: number, dy: number): void {
    const lim = COORD_LIMIT * this.scale;
    this.ox = Math.max(-lim, Math.min(lim, this.ox + dx));
    this.oy = Math.max(-lim, Math.min(lim, this.oy + dy));
    this.changed(false);
  }

  /** Shows this transform (following someone's view); the scale is kept in range. */
  set(ox: number, oy: number, scale: number): void {
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    this.ox = ox;
    this.oy = oy;
    this.lastZoomAt = -1e9;
    this.changed(true);
  }

  reset(): void {
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.lastZoomAt = -1e9;
    this.changed(true);
  }
}
