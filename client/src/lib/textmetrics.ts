// Text layout shared by the canvas, hit-testing and the SVG export: the font,
// the line height, where the first baseline sits, and line widths (measured
// with a canvas when there is one, estimated otherwise, e.g. in unit tests).

export const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
/** line advance, in font sizes */
export const LINE_HEIGHT = 1.25;
/** the first baseline below the text's top, in font sizes */
export const ASCENT = 0.9;

export const font = (size: number): string => `${size}px ${FONT_FAMILY}`;

type MeasureCtx = { font: string; measureText(t: string): { width: number } };
let ctx: MeasureCtx | null | undefined;

function measurer(): MeasureCtx | null {
  if (ctx !== undefined) return ctx;
  ctx = null;
  try {
    if (typeof OffscreenCanvas !== 'undefined') ctx = new OffscreenCanvas(1, 1).getContext('2d') as MeasureCtx | null;
    else if (typeof document !== 'undefined') ctx = document.createElement('canvas').getContext('2d') as MeasureCtx | null;
  } catch {
    ctx = null;
  }
  return ctx;
}

export function lines(text: string): string[] {
  return text.split('\n');
}

/** Width of one line at font size `size` (world units). */
export function lineWidth(line: string, size: number): number {
  const m = measurer();
  if (!m) return line.length * size * 0.55;
  m.font = font(100);
  return (m.measureText(line).width * size) / 100;
}

/** The text's box size: widest line, and the line count times the line height. */
export function textSize(text: string, size: number): { w: number; h: number } {
  const ls = lines(text);
  let w = 0;
  for (const l of ls) w = Math.max(w, lineWidth(l, size));
  return { w, h: ls.length * size * LINE_HEIGHT };
}
