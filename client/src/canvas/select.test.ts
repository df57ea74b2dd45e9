import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BoardState } from '../lib/board';
import { History } from '../lib/history';
import { computeOverlay } from '../lib/overlay';
import { elementBBox } from '../lib/elements';
import type { DurableOp, Element, EvMsg, UpdateSet } from '../lib/types';
import { SelectTool, type SceneItem, type SelectHost } from './select';
import { Viewport } from './viewport';

/** A host over a real BoardState: submitted ops are applied as the server would echo them. */
class Host implements SelectHost {
  readonly history = new History();
  readonly board = new BoardState();
  readonly sent: DurableOp[] = [];
  readonly drafts: { id: string; set: UpdateSet }[] = [];
  previewing: Map<string, Element> | null = null;
  private seq = 0;

  add(el: Element): void {
    this.apply(el.type === 'shape' ? { t: 'shape', op: 'x', shape: el } : el.type === 'text' ? { t: 'text', op: 'x', text: el } : { t: 'stroke', op: 'x', stroke: el });
  }
  apply(op: DurableOp): void {
    const ev = { ...op, t: 'ev', seq: ++this.seq, kind: op.t } as unknown as EvMsg;
    this.board.apply(ev);
  }
  scene(): SceneItem[] {
    const o = computeOverlay(this.board, []);
    void o;
    return this.board.order.filter((e) => !e.hidden).map((e) => ({ id: e.el.id, el: e.el, bbox: e.bbox }));
  }
  item(id: string): SceneItem | null {
    return this.scene().find((i) => i.id === id) ?? null;
  }
  submit(op: DurableOp): void {
    this.sent.push(op);
    this.apply(op);
  }
  preview(m: Map<string, Element> | null): void {
    this.previewing = m;
  }
  draftUpdate(id: string, set: UpdateSet): void {
    this.drafts.push({ id, set });
  }
  requestRender(): void {}
  onUi(): void {}
}

const rect = (id: string, x: number): Element => ({ type: 'shape', id, kind: 'rect', x1: x, y1: 0, x2: x + 100, y2: 50, color: '#000000', width: 2 });

let host: Host;
let sel: SelectTool;
beforeEach(() => {
  vi.stubGlobal('window', { setTimeout: () => 0 });
  host = new Host();
  sel = new SelectTool(new Viewport(() => {}), host);
  host.add(rect('a', 0));
  host.add(rect('b', 300));
  host.add({ type: 'text', id: 't', x: 0, y: 200, size: 20, color: '#000000', text: 'hello' });
  host.add({ id: 's', color: '#000000', width: 2, points: [500, 0, 600, 100] });
});

describe('select tool', () => {
  it('click selects the element under the pointer (outline of an unfilled rect), empty space clears', () => {
    sel.down(0, 25, false);
    sel.up();
    expect([...sel.selected]).toEqual(['a']);
    sel.down(50, 25, false); // inside an unfilled rect: nothing there
    sel.up();
    expect([...sel.selected]).toEqual([]);
    sel.down(10, 210, false);
    sel.up();
    expect([...sel.selected]).toEqual(['t']);
    sel.down(300, 10, true); // shift adds
    sel.up();
    expect([...sel.selected].sort()).toEqual(['b', 't']);
  });

  it('a box selects the elements fully inside it', () => {
    sel.down(-20, -20, false);
    sel.move(450, 260);
    sel.up();
    expect([...sel.selected].sort()).toEqual(['a', 'b', 't']);
  });

  it('dragging moves: preview and drafts while dragging, one update op per element at the end, undo moves back', () => {
    sel.down(0, 25, false);
    sel.up();
    sel.down(300, 25, true);
    sel.move(310, 45);
    expect(host.previewing?.get('a')).toMatchObject({ x1: 10, y1: 20, x2: 110, y2: 70 });
    expect(host.drafts[0]).toEqual({ id: 'a', set: { x1: 10, y1: 20, x2: 110, y2: 70 } });
    expect(host.sent).toEqual([]);
    sel.move(320, 45);
    sel.up();
    expect(host.previewing).toBeNull();
    expect(host.sent.map((o) => o.t)).toEqual(['update', 'update']);
    expect(host.board.byId.get('a')!.el).toMatchObject({ x1: 20, y1: 20, x2: 120, y2: 70 });
    expect(host.board.byId.get('b')!.el).toMatchObject({ x1: 320, y1: 20, x2: 420, y2: 70 });
    for (const op of host.history.undo(() => 'u')) host.apply(op);
    expect(host.board.byId.get('a')!.el).toMatchObject({ x1: 0, y1: 0, x2: 100, y2: 50 });
    expect(host.board.byId.get('b')!.el).toMatchObject({ x1: 300, y1: 0 });
    for (const op of host.history.redo(() => 'r')) host.apply(op);
    expect(host.board.byId.get('a')!.el).toMatchObject({ x1: 20, y1: 20 });
  });

  it('a corner handle resizes: a shape its box, a stroke its points, text its size', () => {
    sel.select(['a']);
    const b = elementBBox(host.board.byId.get('a')!.el); // (-2,-2)-(102,52)
    sel.down(b.maxX, b.maxY, false); // bottom-right handle
    sel.move(b.minX + 2 * (b.maxX - b.minX), b.maxY);
    sel.up();
    const a = host.board.byId.get('a')!.el as { x1: number; x2: number; y2: number };
    expect(a.x1).toBe(2); // the anchor is the selection box corner (the outline included)
    expect(a.x2).toBe(202);
    expect(a.y2).toBe(50);

    sel.select(['s']);
    const sb = host.board.byId.get('s')!.bbox;
    sel.down(sb.minX, sb.minY, false); // top-left handle, anchor bottom-right
    sel.move(sb.maxX - (sb.maxX - sb.minX) / 2, sb.maxY - (sb.maxY - sb.minY) / 2);
    sel.up();
    const pts = (host.board.byId.get('s')!.el as { points: number[] }).points;
    expect(pts[2]).toBe(601); // anchored at the box corner (602, 102)
    expect(pts[0]).toBeCloseTo(551, 0);

    sel.select(['t']);
    const tb = host.board.byId.get('t')!.bbox;
    sel.down(tb.maxX, tb.maxY, false);
    sel.move(tb.minX + 2 * (tb.maxX - tb.minX), tb.minY + 2 * (tb.maxY - tb.minY));
    sel.up();
    expect(host.board.byId.get('t')!.el).toMatchObject({ x: 0, y: 200, size: 40 });
  });

  it('Delete erases the selection (undo restores); Ctrl+D duplicates with new ids (undo erases them)', () => {
    sel.select(['a', 't']);
    expect(sel.duplicateSelected()).toBe(2);
    const copies = [...sel.selected];
    expect(copies).not.toContain('a');
    expect(host.board.visibleIds()).toEqual(['a', 'b', 't', 's', ...copies]);
    expect(host.board.byId.get(copies[0])!.el).toMatchObject({ type: 'shape', x1: 24, y1: 24 });
    expect(sel.deleteSelected()).toBe(2);
    expect(host.board.visibleIds()).toEqual(['a', 'b', 't', 's']);
    expect(sel.selected.size).toBe(0);
    for (const op of host.history.undo(() => 'u')) host.apply(op);
    expect(host.board.visibleIds()).toEqual(['a', 'b', 't', 's', ...copies]);
    for (const op of host.history.undo(() => 'u')) host.apply(op);
    expect(host.board.visibleIds()).toEqual(['a', 'b', 't', 's']);
  });

  it('restyle sets the colour of all and the width of strokes and shapes only', () => {
    sel.select(['a', 't']);
    sel.restyle({ width: 8 });
    expect(host.sent).toEqual([expect.objectContaining({ t: 'update', id: 'a', set: { width: 8 } })]);
    sel.restyle({ color: '#e03131' });
    expect(host.board.byId.get('t')!.el.color).toBe('#e03131');
    expect(host.board.byId.get('a')!.el.color).toBe('#e03131');
  });

  it('a cancelled drag changes nothing', () => {
    sel.select(['a']);
    sel.down(0, 25, false);
    sel.move(50, 50);
    expect(host.previewing).not.toBeNull();
    sel.cancel();
    expect(host.previewing).toBeNull();
    expect(sel.dragging).toBe(false);
    expect(host.sent).toEqual([]);
    expect(host.history.canUndo).toBe(false);
  });
});
