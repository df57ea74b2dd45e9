import { describe, expect, it } from 'vitest';
import { elementBBox } from '../lib/elements';
import type { Shape, Text } from '../lib/types';
import { hitElement, hitShape } from './geometry';

const rect: Shape = { type: 'shape', id: 'r', kind: 'rect', x1: 0, y1: 0, x2: 100, y2: 50, color: '#000000', width: 4 };

describe('hit testing', () => {
  it('an unfilled rectangle is hit on its outline only, a filled one inside too', () => {
    expect(hitShape(rect, 0, 25, 1)).toBe(true);
    expect(hitShape(rect, 50, 51, 1)).toBe(true);
    expect(hitShape(rect, 50, 25, 1)).toBe(false);
    expect(hitShape({ ...rect, fill: '#ffffff' }, 50, 25, 1)).toBe(true);
    expect(hitShape(rect, 120, 25, 1)).toBe(false);
  });

  it('an ellipse is hit near its outline, a filled one inside', () => {
    const e: Shape = { ...rect, kind: 'ellipse' };
    expect(hitShape(e, 100, 25, 1)).toBe(true);
    expect(hitShape(e, 50, 0, 1)).toBe(true);
    expect(hitShape(e, 50, 25, 1)).toBe(false);
    expect(hitShape({ ...e, fill: '#ffffff' }, 50, 25, 1)).toBe(true);
    expect(hitShape(e, 2, 2, 1)).toBe(false); // the box corner is outside the ellipse
  });

  it('a line and an arrow are hit along the segment, an arrow on its head too', () => {
    const l: Shape = { ...rect, kind: 'line', x1: 0, y1: 0, x2: 100, y2: 0 };
    expect(hitShape(l, 50, 2, 1)).toBe(true);
    expect(hitShape(l, 50, 10, 1)).toBe(false);
    const a: Shape = { ...l, kind: 'arrow' };
    expect(hitShape(a, 100 - 12 * Math.cos(Math.PI / 6), 12 * Math.sin(Math.PI / 6), 1)).toBe(true);
    expect(hitShape(l, 100 - 12 * Math.cos(Math.PI / 6), 12 * Math.sin(Math.PI / 6), 1)).toBe(false);
  });

  it('text is hit anywhere in its box', () => {
    const t: Text = { type: 'text', id: 't', x: 10, y: 10, size: 20, color: '#000000', text: 'hello' };
    const b = elementBBox(t);
    expect(hitElement(t, b, 15, 20, 0)).toBe(true);
    expect(hitElement(t, b, 15, 10 + 25 + 5, 0)).toBe(false);
    expect(hitElement(t, b, 5, 20, 0)).toBe(false);
  });
});
