// Drawing a shape by dragging (rectangle, ellipse, line, arrow): the shape
// follows the pointer from the press point; Shift makes a square or circle,
// or snaps a line to 45 degrees. Part of PointerInput.

import type { Shape, ShapeKind } from '../lib/types';
import { round1 } from './geometry';

/** The fill for a colour when shapes are filled: the colour mixed with white (a light tint). */
export function tint(color: string): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return '#e9ecef';
  const v = parseInt(m[1], 16);
  const ch = (s: number) => Math.round(((v >> s) & 255) + (255 - ((v >> s) & 255)) * 0.78);
  return '#' + ((ch(16) << 16) | (ch(8) << 8) | ch(0)).toString(16).padStart(6, '0');
}

export class ShapeDraw {
  readonly shape: Shape;
  private readonly x0: number;
  private readonly y0: number;

  constructor(id: string, kind: ShapeKind, x: number, y: number, style: { color: string; width: number; fill: boolean }) {
    this.x0 = round1(x);
    this.y0 = round1(y);
    this.shape = { type: 'shape', id, kind, x1: this.x0, y1: this.y0, x2: this.x0, y2: this.y0, color: style.color, width: style.width };
    if (style.fill && (kind === 'rect' || kind === 'ellipse')) this.shape.fill = tint(style.color);
  }

  /** Follow the pointer (world coordinates). */
  move(x: number, y: number, constrain: boolean): void {
    let dx = x - this.x0, dy = y - this.y0;
    if (constrain) {
      if (this.shape.kind === 'rect' || this.shape.kind === 'ellipse') {
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        dx = Math.sign(dx || 1) * d;
        dy = Math.sign(dy || 1) * d;
      } else {
        const a = Math.round(Math.atan2(dy, dx) / (Math.PI / 4)) * (Math.PI / 4);
        const len = Math.hypot(dx, dy);
        dx = Math.cos(a) * len;
        dy = Math.sin(a) * len;
      }
    }
    this.shape.x2 = round1(this.x0 + dx);
    this.shape.y2 = round1(this.y0 + dy);
  }

  /** Whether the drag drew something (at least `min` world units in some direction). */
  isReal(min: number): boolean {
    return Math.abs(this.shape.x2 - this.shape.x1) >= min || Math.abs(this.shape.y2 - this.shape.y1) >= min;
  }
}
