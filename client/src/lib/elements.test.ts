import { describe, expect, it } from 'vitest';
import { applySet, currentSet, duplicate, elementBBox, groupsOf, transformSet } from './elements';
import type { Shape, Stroke, Text } from './types';

const rect: Shape = { type: 'shape', id: 'r', kind: 'rect', x1: 10, y1: 20, x2: 110, y2: 70, color: '#000000', width: 4, fill: '#ffeeee', by: 'c1' };
const text: Text = { type: 'text', id: 't', x: 5, y: 5, size: 20, color: '#1971c2', text: 'hi\nthere', by: 'c1' };
const stroke: Stroke = { id: 's', color: '#e03131', width: 2, points: [0, 0, 10, 10, 20, 0] };

describe('update field groups', () => {
  it('counts a group only when all of its keys are there', () => {
    expect(groupsOf({ x1: 1, y1: 2, x2: 3 })).toEqual([]);
    expect(groupsOf({ x1: 1, y1: 2, x2: 3, y2: 4, color: '#000000' })).toEqual(['box', 'color']);
    expect(groupsOf({ x: 1 })).toEqual([]);
    expect(groupsOf({ x: 1, y: 2, size: 3, text: 'a', fill: null })).toEqual(['pos', 'size', 'text', 'fill']);
  });

  it('applies only the groups of the element type, to a new object', () => {
    const n = applySet(rect, { x1: 0, y1: 0, x2: 5, y2: 5, x: 9, y: 9, size: 3, points: [1, 1] })!;
    expect(n).toEqual({ ...rect, x1: 0, y1: 0, x2: 5, y2: 5 });
    expect(n).not.toBe(rect);
    expect(rect.x1).toBe(10);
    expect(applySet(text, { x: 1, y: 2, size: 30, text: 'new', width: 9 })).toEqual({ ...text, x: 1, y: 2, size: 30, text: 'new' });
    expect(applySet(stroke, { points: [1, 2], color: '#ffffff', fill: '#000000' })).toEqual({ ...stroke, points: [1, 2], color: '#ffffff' });
  });

  it('returns null when no group applies (text has no width, strokes no box)', () => {
    expect(applySet(text, { width: 3 })).toBeNull();
    expect(applySet(stroke, { x1: 0, y1: 0, x2: 1, y2: 1 })).toBeNull();
    expect(applySet(rect, {})).toBeNull();
  });

  it('fill null removes the fill', () => {
    const n = applySet(rect, { fill: null })!;
    expect('fill' in n).toBe(false);
    expect(applySet(n, { fill: '#00ff00' })!.fill).toBe('#00ff00');
  });

  it('currentSet gives the previous values of the groups an update changes (for undo)', () => {
    expect(currentSet(rect, ['box', 'fill'])).toEqual({ x1: 10, y1: 20, x2: 110, y2: 70, fill: '#ffeeee' });
    expect(currentSet({ ...rect, fill: undefined }, ['fill'])).toEqual({ fill: null });
    expect(currentSet(text, ['pos', 'size', 'width'])).toEqual({ x: 5, y: 5, size: 20 });
    expect(currentSet(stroke, ['points'])).toEqual({ points: [0, 0, 10, 10, 20, 0] });
  });
});

describe('transforms', () => {
  it('moves every type by its own group, rounded to 0.1', () => {
    const t = { ax: 0, ay: 0, sx: 1, sy: 1, dx: 10.04, dy: -5 };
    expect(transformSet(rect, t)).toEqual({ x1: 20, y1: 15, x2: 120, y2: 65 });
    expect(transformSet(text, t)).toEqual({ x: 15, y: 0 });
    expect(transformSet(stroke, t)).toEqual({ points: [10, -5, 20, 5, 30, -5] });
  });

  it('resizes around an anchor: shapes their box, strokes their points, text its size', () => {
    const t = { ax: 10, ay: 20, sx: 2, sy: 0.5, dx: 0, dy: 0 };
    expect(transformSet(rect, t)).toEqual({ x1: 10, y1: 20, x2: 210, y2: 45 });
    expect(transformSet(stroke, { ax: 0, ay: 0, sx: 2, sy: 2, dx: 0, dy: 0 })).toEqual({ points: [0, 0, 20, 20, 40, 0] });
    const ts = transformSet(text, { ax: 5, ay: 5, sx: 2, sy: 2, dx: 0, dy: 0 });
    expect(ts).toEqual({ x: 5, y: 5, size: 40 });
  });

  it('duplicate gives a new id, offset, no author', () => {
    const d = duplicate(rect, 'r2', 24, 24);
    expect(d).toEqual({ type: 'shape', id: 'r2', kind: 'rect', x1: 34, y1: 44, x2: 134, y2: 94, color: '#000000', width: 4, fill: '#ffeeee' });
    expect(duplicate(stroke, 's2', 1, 1)).toEqual({ id: 's2', color: '#e03131', width: 2, points: [1, 1, 11, 11, 21, 1] });
  });

  it('bounds include half the width; an arrow its head; text its lines', () => {
    expect(elementBBox(rect)).toEqual({ minX: 7, minY: 17, maxX: 113, maxY: 73 });
    const a = elementBBox({ ...rect, kind: 'arrow' as const, fill: undefined });
    expect(a.minX).toBeLessThan(7 - 9);
    const b = elementBBox(text);
    expect(b.minX).toBe(5);
    expect(b.minY).toBe(5);
    expect(b.maxY).toBe(5 + 2 * 20 * 1.25);
    expect(b.maxX).toBeGreaterThan(5 + 20);
  });
});
