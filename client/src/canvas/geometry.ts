// Element geometry for the canvas: paths (smoothed strokes: quadratic curves
// through midpoints; rect, ellipse, line, arrow), drawing any element, hit
// testing (eraser, select), and input rounding.

import type { Entry } from '../lib/board';
import { arrowHeadPoints, isShape, isText, type BBox } from '../lib/elements';
import { ASCENT, font, LINE_HEIGHT, lines } from '../lib/textmetrics';
import type { Element, Shape, Stroke, Text } from '../lib/types';

type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

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

export function shapePath(s: Shape): Path2D {
  const p = new Path2D();
  const x = Math.min(s.x1, s.x2), y = Math.min(s.y1, s.y2);
  const w = Math.abs(s.x2 - s.x1), h = Math.abs(s.y2 - s.y1);
  switch (s.kind) {
    case 'rect':
      p.rect(x, y, w, h);
      break;
    case 'ellipse':
      p.ellipse(x + w / 2, y + h / 2, w / 2, h / 2, 0, 0, Math.PI * 2);
      break;
    case 'arrow': {
      const [ax, ay, bx, by] = arrowHeadPoints(s);
      p.moveTo(s.x1, s.y1);
      p.lineTo(s.x2, s.y2);
      p.moveTo(ax, ay);
      p.lineTo(s.x2, s.y2);
      p.lineTo(bx, by);
      break;
    }
    default:
      p.moveTo(s.x1, s.y1);
      p.lineTo(s.x2, s.y2);
  }
  return p;
}

/** The element's path (strokes, shapes), or null for text. */
export function elementPath(el: Element): Path2D | null {
  if (isText(el)) return null;
  return isShape(el) ? shapePath(el) : buildPath(el.points);
}

/** The entry's path, cached on the entry (an update drops the cache). */
export function entryPath(e: Entry): Path2D | null {
  if (isText(e.el)) return null;
  let p = e.path as Path2D | undefined;
  if (!p) {
    p = elementPath(e.el)!;
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

/** Does a circle of radius r at (x, y) touch the polyline? */
function hitPolyline(p: number[], width: number, x: number, y: number, r: number): boolean {
  const rr = r + width / 2;
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

/** Does a circle of radius r at (x, y) touch the stroke? */
export function hitStroke(s: Stroke, x: number, y: number, r: number): boolean {
  return hitPolyline(s.points, s.width, x, y, r);
}

function ellipsePoints(cx: number, cy: number, rx: number, ry: number, n = 48): number[] {
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    const a = (i / n) * Math.PI * 2;
    out.push(cx + rx * Math.cos(a), cy + ry * Math.sin(a));
  }
  return out;
}

/** Does a circle of radius r at (x, y) touch the shape (its outline, or its inside when filled)? */
export function hitShape(s: Shape, x: number, y: number, r: number): boolean {
  const x0 = Math.min(s.x1, s.x2), y0 = Math.min(s.y1, s.y2), x1 = Math.max(s.x1, s.x2), y1 = Math.max(s.y1, s.y2);
  switch (s.kind) {
    case 'rect':
      if (s.fill && x >= x0 && x <= x1 && y >= y0 && y <= y1) return true;
      return hitPolyline([x0, y0, x1, y0, x1, y1, x0, y1, x0, y0], s.width, x, y, r);
    case 'ellipse': {
      const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = (x1 - x0) / 2, ry = (y1 - y0) / 2;
      if (s.fill && rx > 0 && ry > 0 && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) return true;
      return hitPolyline(ellipsePoints(cx, cy, rx, ry), s.width, x, y, r);
    }
    case 'arrow': {
      const [ax, ay, bx, by] = arrowHeadPoints(s);
      if (hitPolyline([ax, ay, s.x2, s.y2, bx, by], s.width, x, y, r)) return true;
      return hitPolyline([s.x1, s.y1, s.x2, s.y2], s.width, x, y, r);
    }
    default:
      return hitPolyline([s.x1, s.y1, s.x2, s.y2], s.width, x, y, r);
  }
}

/** Does a circle of radius r at (x, y) touch the element? (text: its box) */
export function hitElement(el: Element, bbox: BBox, x: number, y: number, r: number): boolean {
  if (isText(el)) return x >= bbox.minX - r && x <= bbox.maxX + r && y >= bbox.minY - r && y <= bbox.maxY + r;
  if (isShape(el)) return hitShape(el, x, y, r);
  return hitStroke(el, x, y, r);
}

/** Round to 0.1 like the server may do, so the local preview matches the echo. */
export const round1 = (v: number): number => Math.round(v * 10) / 10;

export function drawText(ctx: Ctx2D, t: Text): void {
  ctx.fillStyle = t.color;
  ctx.font = font(t.size);
  ctx.textBaseline = 'alphabetic';
  const ls = lines(t.text);
  for (let i = 0; i < ls.length; i++) ctx.fillText(ls[i], t.x, t.y + t.size * (ASCENT + i * LINE_HEIGHT));
}

/** Draw any element (the context has round caps and joins); `path` is its path (null for text). */
export function drawElement(ctx: Ctx2D, el: Element, path: Path2D | null): void {
  if (isText(el)) {
    drawText(ctx, el);
    return;
  }
  if (!path) return;
  if (isShape(el) && el.fill && (el.kind === 'rect' || el.kind === 'ellipse')) {
    ctx.fillStyle = el.fill;
    ctx.fill(path);
  }
  ctx.strokeStyle = el.color;
  ctx.lineWidth = el.width;
  ctx.stroke(path);
}

/** Kept for the stroke-only callers. */
export function drawStroke(ctx: Ctx2D, s: Stroke, path: Path2D): void {
  drawElement(ctx, s, path);
}
