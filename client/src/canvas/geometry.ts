// Stroke geometry: smoothed Path2D (quadratic curves through midpoints), hit
// testing for the eraser, and input smoothing/decimation.

import type { BBox, Entry } from '../lib/board';
import type { Stroke } from '../lib/types';

export function buildPath(points: number[]): Path2D {
  const p = new Path2D();
  const n = points.length >> 1;
  if (n === 0) return p;
  p.moveTo(points[0], points[1]);
  if (n === 1) {
    // a dot: a tiny segment so that the round cap draws a disc
    p.lineTo(points[0] + 0.01, points[1]);
    return p;
  }
  if (n === 2) {
    p.lineTo(points[2], points[3]);
    return p;
  }
  for (let i = 1; i < n - 1; i++) {
    const x = points[2 * i], y = points[2 * i + 1];
    const nx = points[2 * i + 2], ny = points[2 * i + 3];
    p.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
  }
  p.lineTo(points[2 * n - 2], points[2 * n - 1]);
  return p;
}

export function entryPath(e: Entry): Path2D {
  let p = e.path as Path2D | undefined;
  if (!p) {
    p = buildPath(e.stroke.points);
    e.path = p;
  }
  return p;
}

export function intersects(a: BBox, minX: number, minY: number, maxX: number, maxY: number): boolean {
  return a.maxX >= minX && a.minX <= maxX && a.maxY >= minY && a.minY <= maxY;
}

function segDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  const cx = ax + t * dx - px, cy = ay + t * dy - py;
  return cx * cx + cy * cy;
}

/** Does a circle of radius r at (x, y) touch the stroke? */
export function hitStroke(s: Stroke, x: number, y: number, r: number): boolean {
  const p = s.points;
  const rr = r + s.width / 2;
  const rr2 = rr * rr;
  if (p.length < 4) {
    const dx = p[0] - x, dy = p[1] - y;
    return dx * dx + dy * dy <= rr2;
  }
  for (let i = 0; i + 3 < p.length; i += 2) {
    if (segDist2(x, y, p[i], p[i + 1], p[i + 2], p[i + 3]) <= rr2) return true;
  }
  return false;
}

/** Round to 0.1 like the server may do, so the local preview matches the echo. */
export const round1 = (v: number): number => Math.round(v * 10) / 10;

export function drawStroke(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, s: Stroke, path: Path2D): void {
  ctx.strokeStyle = s.color;
  ctx.lineWidth = s.width;
  ctx.stroke(path);
}
