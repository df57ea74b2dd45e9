// SVG export: the board's visible elements as one SVG document, in drawing
// order, on white: strokes as smoothed <path>s (the same curves as the
// canvas), rectangles, ellipses and lines as <rect>/<ellipse>/<line>, arrows
// as a <path> with the head, text as <text> (one <tspan> a line).

import { arrowHeadPoints, elementBBox, isShape, isText, unionBBox } from './elements';
import { ASCENT, FONT_FAMILY, LINE_HEIGHT, lines } from './textmetrics';
import type { Element, Shape, Stroke, Text } from './types';

const n = (v: number): string => String(Math.round(v * 100) / 100);

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A stroke's path data: quadratic curves through the midpoints, as geometry.buildPath draws it. */
export function strokeD(points: number[]): string {
  const k = points.length >> 1;
  if (k === 0) return '';
  const out = [`M${n(points[0])} ${n(points[1])}`];
  if (k === 1) out.push(`L${n(points[0] + 0.01)} ${n(points[1])}`);
  else if (k === 2) out.push(`L${n(points[2])} ${n(points[3])}`);
  else {
    for (let i = 1; i < k - 1; i++) {
      const x = points[2 * i], y = points[2 * i + 1];
      const nx = points[2 * i + 2], ny = points[2 * i + 3];
      out.push(`Q${n(x)} ${n(y)} ${n((x + nx) / 2)} ${n((y + ny) / 2)}`);
    }
    out.push(`L${n(points[2 * k - 2])} ${n(points[2 * k - 1])}`);
  }
  return out.join(' ');
}

const lineAttrs = (color: string, width: number): string =>
  `stroke="${esc(color)}" stroke-width="${n(width)}" stroke-linecap="round" stroke-linejoin="round"`;

function strokeSvg(s: Stroke): string {
  return `<path data-id="${esc(s.id)}" d="${strokeD(s.points)}" fill="none" ${lineAttrs(s.color, s.width)}/>`;
}

function shapeSvg(s: Shape): string {
  const id = `data-id="${esc(s.id)}"`;
  const x = Math.min(s.x1, s.x2), y = Math.min(s.y1, s.y2), w = Math.abs(s.x2 - s.x1), h = Math.abs(s.y2 - s.y1);
  const fill = `fill="${s.fill ? esc(s.fill) : 'none'}"`;
  switch (s.kind) {
    case 'rect':
      return `<rect ${id} x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" ${fill} ${lineAttrs(s.color, s.width)}/>`;
    case 'ellipse':
      return `<ellipse ${id} cx="${n(x + w / 2)}" cy="${n(y + h / 2)}" rx="${n(w / 2)}" ry="${n(h / 2)}" ${fill} ${lineAttrs(s.color, s.width)}/>`;
    case 'arrow': {
      const [ax, ay, bx, by] = arrowHeadPoints(s);
      const d = `M${n(s.x1)} ${n(s.y1)} L${n(s.x2)} ${n(s.y2)} M${n(ax)} ${n(ay)} L${n(s.x2)} ${n(s.y2)} L${n(bx)} ${n(by)}`;
      return `<path ${id} data-kind="arrow" d="${d}" fill="none" ${lineAttrs(s.color, s.width)}/>`;
    }
    default:
      return `<line ${id} x1="${n(s.x1)}" y1="${n(s.y1)}" x2="${n(s.x2)}" y2="${n(s.y2)}" ${lineAttrs(s.color, s.width)}/>`;
  }
}

function textSvg(t: Text): string {
  const spans = lines(t.text)
    .map((l, i) => `<tspan x="${n(t.x)}" y="${n(t.y + t.size * (ASCENT + i * LINE_HEIGHT))}">${esc(l)}</tspan>`)
    .join('');
  return `<text data-id="${esc(t.id)}" font-size="${n(t.size)}" font-family="${esc(FONT_FAMILY)}" fill="${esc(t.color)}" xml:space="preserve">${spans}</text>`;
}

export function elementSvg(el: Element): string {
  if (isShape(el)) return shapeSvg(el);
  if (isText(el)) return textSvg(el);
  return strokeSvg(el);
}

/** The SVG document of these elements (their bounds plus `pad`), or null when there are none. */
export function buildSvg(elements: Element[], pad: number): string | null {
  const b = unionBBox(elements.map(elementBBox));
  if (!b) return null;
  const x = b.minX - pad, y = b.minY - pad, w = b.maxX - b.minX + 2 * pad, h = b.maxY - b.minY + 2 * pad;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(w)}" height="${Math.ceil(h)}" viewBox="${n(x)} ${n(y)} ${n(w)} ${n(h)}">`,
    `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="#ffffff"/>`,
  ];
  for (const el of elements) out.push(elementSvg(el));
  out.push('</svg>');
  return out.join('\n');
}
