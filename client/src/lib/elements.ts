// Elements (strokes, shapes, text): their bounds, the field groups of an
// update and how an update applies to each type (docs/protocol.md §4), and
// the geometric transforms (move, resize) expressed as update sets.

import type { Element, Shape, Stroke, Text, UpdateSet } from './types';
import { textSize } from './textmetrics';

export interface BBox {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export const isShape = (e: Element): e is Shape => e.type === 'shape';
export const isText = (e: Element): e is Text => e.type === 'text';
export const isStroke = (e: Element): e is Stroke => e.type === undefined;

export function strokeBBox(s: Stroke): BBox {
  const p = s.points;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i + 1 < p.length; i += 2) {
    const x = p[i], y = p[i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const r = s.width / 2 + 1;
  return { minX: minX - r, minY: minY - r, maxX: maxX + r, maxY: maxY + r };
}

/** World-space bounds, including half the line width (and an arrow's head). */
export function elementBBox(e: Element): BBox {
  if (isShape(e)) {
    let r = e.width / 2 + 1;
    if (e.kind === 'arrow') r += arrowHead(e.width);
    return { minX: Math.min(e.x1, e.x2) - r, minY: Math.min(e.y1, e.y2) - r, maxX: Math.max(e.x1, e.x2) + r, maxY: Math.max(e.y1, e.y2) + r };
  }
  if (isText(e)) {
    const { w, h } = textSize(e.text, e.size);
    return { minX: e.x, minY: e.y, maxX: e.x + Math.max(w, e.size * 0.3), maxY: e.y + h };
  }
  return strokeBBox(e);
}

/** Length of an arrow head's sides for a line width. */
export const arrowHead = (width: number): number => Math.max(10, width * 3);

export type Group = 'points' | 'box' | 'pos' | 'size' | 'text' | 'color' | 'width' | 'fill';

/** The field groups present in a set (a group counts only when all its keys are there). */
export function groupsOf(set: UpdateSet): Group[] {
  const g: Group[] = [];
  if (set.points !== undefined) g.push('points');
  if (set.x1 !== undefined && set.y1 !== undefined && set.x2 !== undefined && set.y2 !== undefined) g.push('box');
  if (set.x !== undefined && set.y !== undefined) g.push('pos');
  if (set.size !== undefined) g.push('size');
  if (set.text !== undefined) g.push('text');
  if (set.color !== undefined) g.push('color');
  if (set.width !== undefined) g.push('width');
  if (set.fill !== undefined) g.push('fill');
  return g;
}

/** Whether group g applies to the element's type. */
export function applies(e: Element, g: Group): boolean {
  switch (g) {
    case 'points':
      return isStroke(e);
    case 'box':
    case 'fill':
      return isShape(e);
    case 'pos':
    case 'size':
    case 'text':
      return isText(e);
    case 'color':
      return true;
    case 'width':
      return !isText(e);
  }
}

/** The element with the applicable groups of `set` replaced (a new object), or null when none applies. */
export function applySet<E extends Element>(e: E, set: UpdateSet): E | null {
  const groups = groupsOf(set).filter((g) => applies(e, g));
  if (groups.length === 0) return null;
  const n = { ...e } as Element;
  for (const g of groups) {
    switch (g) {
      case 'points':
        (n as Stroke).points = set.points!.slice();
        break;
      case 'box':
        Object.assign(n, { x1: set.x1, y1: set.y1, x2: set.x2, y2: set.y2 });
        break;
      case 'pos':
        Object.assign(n, { x: set.x, y: set.y });
        break;
      case 'size':
        (n as Text).size = set.size!;
        break;
      case 'text':
        (n as Text).text = set.text!;
        break;
      case 'color':
        n.color = set.color!;
        break;
      case 'width':
        (n as Stroke | Shape).width = set.width!;
        break;
      case 'fill':
        if (set.fill === null) delete (n as Shape).fill;
        else (n as Shape).fill = set.fill;
        break;
    }
  }
  return n as E;
}

/** The element's current values of the given groups (what an undo sets back). */
export function currentSet(e: Element, groups: Group[]): UpdateSet {
  const s: UpdateSet = {};
  for (const g of groups) {
    if (!applies(e, g)) continue;
    switch (g) {
      case 'points':
        s.points = (e as Stroke).points.slice();
        break;
      case 'box': {
        const h = e as Shape;
        Object.assign(s, { x1: h.x1, y1: h.y1, x2: h.x2, y2: h.y2 });
        break;
      }
      case 'pos':
        Object.assign(s, { x: (e as Text).x, y: (e as Text).y });
        break;
      case 'size':
        s.size = (e as Text).size;
        break;
      case 'text':
        s.text = (e as Text).text;
        break;
      case 'color':
        s.color = e.color;
        break;
      case 'width':
        s.width = (e as Shape).width;
        break;
      case 'fill':
        s.fill = (e as Shape).fill ?? null;
        break;
    }
  }
  return s;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

/**
 * The update set that maps an element's geometry through an affine map
 * x' = ax + sx * (x - ax) + dx (and the same for y); text scales its size by
 * |sy| (its top-left follows the map). Coordinates are rounded to 0.1 like the gateway.
 */
export function transformSet(e: Element, t: { ax: number; ay: number; sx: number; sy: number; dx: number; dy: number }): UpdateSet {
  const fx = (x: number) => r1(t.ax + t.sx * (x - t.ax) + t.dx);
  const fy = (y: number) => r1(t.ay + t.sy * (y - t.ay) + t.dy);
  if (isShape(e)) return { x1: fx(e.x1), y1: fy(e.y1), x2: fx(e.x2), y2: fy(e.y2) };
  if (isText(e)) {
    const k = Math.abs(t.sy);
    if (k === 1) return { x: fx(e.x), y: fy(e.y) };
    const size = Math.min(1000, Math.max(1, r1(e.size * k)));
    return { x: fx(t.sx < 0 ? e.x + textSize(e.text, e.size).w : e.x), y: fy(t.sy < 0 ? e.y + textSize(e.text, e.size).h : e.y), size };
  }
  const p = e.points;
  const out = new Array<number>(p.length);
  for (let i = 0; i + 1 < p.length; i += 2) {
    out[i] = fx(p[i]);
    out[i + 1] = fy(p[i + 1]);
  }
  return { points: out };
}

/** A copy of the element with a new id, moved by (dx, dy). */
export function duplicate(e: Element, id: string, dx: number, dy: number): Element {
  const moved = applySet(e, transformSet(e, { ax: 0, ay: 0, sx: 1, sy: 1, dx, dy })) ?? e;
  const c = { ...moved, id } as Element;
  delete c.by;
  return c;
}

export function unionBBox(bs: Iterable<BBox>): BBox | null {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const b of bs) {
    minX = Math.min(minX, b.minX);
    minY = Math.min(minY, b.minY);
    maxX = Math.max(maxX, b.maxX);
    maxY = Math.max(maxY, b.maxY);
  }
  return minX === Infinity ? null : { minX, minY, maxX, maxY };
}

/** The two outer points of an arrow's head (its tip is x2, y2). */
export function arrowHeadPoints(s: Shape): [number, number, number, number] {
  const a = Math.atan2(s.y2 - s.y1, s.x2 - s.x1);
  const h = arrowHead(s.width);
  return [s.x2 - h * Math.cos(a - Math.PI / 6), s.y2 - h * Math.sin(a - Math.PI / 6), s.x2 - h * Math.cos(a + Math.PI / 6), s.y2 - h * Math.sin(a + Math.PI / 6)];
}

const ALL_GROUPS: Group[] = ['points', 'box', 'pos', 'size', 'text', 'color', 'width', 'fill'];

/** The update that turns `cur` into `want` (same element, other values), and its inverse; null when they are equal. */
export function diffSet(cur: Element, want: Element): { before: UpdateSet; after: UpdateSet } | null {
  if (cur.type !== want.type) return null;
  const changed = ALL_GROUPS.filter((g) => applies(cur, g) && JSON.stringify(currentSet(cur, [g])) !== JSON.stringify(currentSet(want, [g])));
  if (changed.length === 0) return null;
  return { before: currentSet(cur, changed), after: currentSet(want, changed) };
}
