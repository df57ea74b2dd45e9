import { describe, expect, it } from 'vitest';
import { buildSvg, strokeD } from './svg';
import type { Element } from './types';

const els: Element[] = [
  { id: 's', color: '#e03131', width: 3, points: [0, 0, 10, 10, 20, 0, 30, 10] },
  { type: 'shape', id: 'r', kind: 'rect', x1: 50, y1: 60, x2: 10, y2: 20, color: '#1e1e1e', width: 2, fill: '#ffc9c9' },
  { type: 'shape', id: 'e', kind: 'ellipse', x1: 0, y1: 0, x2: 40, y2: 20, color: '#2f9e44', width: 4 },
  { type: 'shape', id: 'l', kind: 'line', x1: 0, y1: 0, x2: 100, y2: 0, color: '#1971c2', width: 1 },
  { type: 'shape', id: 'a', kind: 'arrow', x1: 0, y1: 50, x2: 100, y2: 50, color: '#7048e8', width: 2 },
  { type: 'text', id: 't', x: 0, y: 100, size: 20, color: '#c2255c', text: 'a < b & "c"\nline two' },
];

describe('SVG export', () => {
  it('is null for an empty board', () => {
    expect(buildSvg([], 24)).toBeNull();
  });

  it('has one element per board element, in drawing order, with their styles', () => {
    const svg = buildSvg(els, 24)!;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const ids = [...svg.matchAll(/data-id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['s', 'r', 'e', 'l', 'a', 't']);
    expect(svg).toContain('<path data-id="s" d="M0 0 Q10 10 15 5 Q20 0 25 5 L30 10" fill="none" stroke="#e03131" stroke-width="3"');
    expect(svg).toContain('<rect data-id="r" x="10" y="20" width="40" height="40" fill="#ffc9c9" stroke="#1e1e1e" stroke-width="2"');
    expect(svg).toContain('<ellipse data-id="e" cx="20" cy="10" rx="20" ry="10" fill="none" stroke="#2f9e44" stroke-width="4"');
    expect(svg).toContain('<line data-id="l" x1="0" y1="0" x2="100" y2="0" stroke="#1971c2" stroke-width="1"');
    expect(svg).toMatch(/<path data-id="a" data-kind="arrow" d="M0 50 L100 50 M[\d.]+ [\d.]+ L100 50 L[\d.]+ [\d.]+" fill="none" stroke="#7048e8"/);
    expect(svg).toContain('font-size="20"');
    expect(svg).toContain('fill="#c2255c"');
    expect(svg).toContain('<tspan x="0" y="118">a &lt; b &amp; &quot;c&quot;</tspan><tspan x="0" y="143">line two</tspan>');
  });

  it('frames the bounds plus the pad', () => {
    const svg = buildSvg([{ type: 'shape', id: 'r', kind: 'rect', x1: 0, y1: 0, x2: 100, y2: 50, color: '#000000', width: 2 }], 10)!;
    expect(svg).toContain('viewBox="-12 -12 124 74"');
  });

  it('draws a one-point stroke as a dot', () => {
    expect(strokeD([5, 5])).toBe('M5 5 L5.01 5');
    expect(strokeD([0, 0, 3, 4])).toBe('M0 0 L3 4');
  });
});
