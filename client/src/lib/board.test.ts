import { describe, expect, it } from 'vitest';
import { BoardState } from './board';
import type { EvMsg, Stroke } from './types';

const s = (id: string, x = 0): Stroke => ({ id, color: '#000000', width: 2, points: [x, 0, x + 10, 10] });
const ev = (seq: number, kind: EvMsg['kind'], extra: Partial<EvMsg> = {}): EvMsg => ({ t: 'ev', seq, kind, op: 'o' + seq, ...extra });

describe('BoardState', () => {
  it('appends strokes in seq order and ignores duplicates by seq', () => {
    const b = new BoardState();
    expect(b.apply(ev(1, 'stroke', { stroke: s('a') }))?.kind).toBe('append');
    expect(b.apply(ev(2, 'stroke', { stroke: s('b') }))?.kind).toBe('append');
    expect(b.apply(ev(2, 'stroke', { stroke: s('c') }))).toBeNull(); // seq <= last applied
    expect(b.apply(ev(1, 'erase', { ids: ['a'] }))).toBeNull();
    expect(b.visibleIds()).toEqual(['a', 'b']);
    expect(b.seq).toBe(2);
  });

  it('does not append a stroke whose id exists (idempotent)', () => {
    const b = new BoardState();
    b.apply(ev(1, 'stroke', { stroke: s('a', 0) }));
    expect(b.apply(ev(2, 'stroke', { stroke: s('a', 50) }))?.kind).toBe('none');
    expect(b.order).toHaveLength(1);
    expect((b.byId.get('a')!.el as Stroke).points[0]).toBe(0);
    expect(b.seq).toBe(2);
  });

  it('erase/restore flag strokes and restored strokes keep their place', () => {
    const b = new BoardState();
    b.apply(ev(1, 'stroke', { stroke: s('a') }));
    b.apply(ev(2, 'stroke', { stroke: s('b') }));
    b.apply(ev(3, 'stroke', { stroke: s('c') }));
    b.apply(ev(4, 'erase', { ids: ['a', 'zzz'] }));
    expect(b.visibleIds()).toEqual(['b', 'c']);
    expect(b.visibleCount).toBe(2);
    b.apply(ev(5, 'restore', { ids: ['a'] }));
    expect(b.visibleIds()).toEqual(['a', 'b', 'c']);
    // erase twice / restore a visible one: no change reported
    expect(b.apply(ev(6, 'restore', { ids: ['b'] }))?.kind).toBe('none');
  });

  it('clear hides every stroke present at that point only', () => {
    const b = new BoardState();
    b.apply(ev(1, 'stroke', { stroke: s('a') }));
    b.apply(ev(2, 'stroke', { stroke: s('b') }));
    const c = b.apply(ev(3, 'clear'));
    expect(c?.kind).toBe('visibility');
    expect(b.visibleIds()).toEqual([]);
    b.apply(ev(4, 'stroke', { stroke: s('d') }));
    expect(b.visibleIds()).toEqual(['d']);
    // undo of a clear = restore of the ids it hid
    b.apply(ev(5, 'restore', { ids: ['a', 'b'] }));
    expect(b.visibleIds()).toEqual(['a', 'b', 'd']);
    expect(b.visibleCount).toBe(3);
  });

  it('a hidden stroke sent again stays hidden (stroke does not un-hide)', () => {
    const b = new BoardState();
    b.apply(ev(1, 'stroke', { stroke: s('a') }));
    b.apply(ev(2, 'erase', { ids: ['a'] }));
    b.apply(ev(3, 'stroke', { stroke: s('a') }));
    expect(b.visibleIds()).toEqual([]);
  });

  it('snapshot replaces the state', () => {
    const b = new BoardState();
    b.apply(ev(1, 'stroke', { stroke: s('a') }));
    expect(b.loadSnapshot(10, [s('x'), s('y')]).kind).toBe('reset');
    expect(b.visibleIds()).toEqual(['x', 'y']);
    expect(b.seq).toBe(10);
    expect(b.apply(ev(9, 'stroke', { stroke: s('old') }))).toBeNull();
    b.apply(ev(11, 'erase', { ids: ['x'] }));
    expect(b.visibleIds()).toEqual(['y']);
  });

  it('computes a bbox including the stroke width', () => {
    const b = new BoardState();
    b.apply(ev(1, 'stroke', { stroke: { id: 'a', color: '#000000', width: 10, points: [0, 0, 100, 50] } }));
    const bb = b.byId.get('a')!.bbox;
    expect(bb.minX).toBeLessThanOrEqual(-5);
    expect(bb.maxX).toBeGreaterThanOrEqual(105);
    expect(bb.maxY).toBeGreaterThanOrEqual(55);
  });

  // Correctness at size only: speed is measured by the benchmark, never
  // asserted here (a loaded CI machine must not fail a correct build).
  it('applies 20,000 strokes then erases them all', () => {
    const b = new BoardState();
    for (let i = 1; i <= 20000; i++) b.apply(ev(i, 'stroke', { stroke: s('s' + i, i) }));
    expect(b.visibleCount).toBe(20000);
    for (let i = 1; i <= 20000; i++) b.apply(ev(20000 + i, 'erase', { ids: ['s' + i] }));
    expect(b.visibleCount).toBe(0);
  });

  it('folds shapes, text and updates: per group, in place, unknown ids ignored', () => {
    const b = new BoardState();
    const sh = { type: 'shape' as const, id: 'r', kind: 'rect' as const, x1: 0, y1: 0, x2: 10, y2: 10, color: '#000000', width: 2 };
    const tx = { type: 'text' as const, id: 't', x: 0, y: 0, size: 20, color: '#000000', text: 'a' };
    expect(b.apply(ev(1, 'update', { id: 'r', set: { color: '#ff0000' } }))?.kind).toBe('none'); // before the add: ignored
    b.apply(ev(2, 'shape', { shape: sh }));
    b.apply(ev(3, 'stroke', { stroke: s('a') }));
    b.apply(ev(4, 'text', { text: tx }));
    expect(b.byId.get('r')!.el).toEqual(sh);
    const ch = b.apply(ev(5, 'update', { id: 'r', set: { x1: 100, y1: 100, x2: 150, y2: 120, size: 9 } }));
    expect(ch?.kind).toBe('update');
    if (ch?.kind === 'update') {
      expect(ch.before.maxX).toBe(12);
      expect(ch.entry.bbox.maxX).toBe(152);
    }
    b.apply(ev(6, 'update', { id: 't', set: { text: 'b', size: 30, width: 3 } }));
    b.apply(ev(7, 'update', { id: 'a', set: { points: [1, 1, 2, 2], color: '#00ff00' } }));
    expect(b.apply(ev(8, 'update', { id: 'nope', set: { color: '#00ff00' } }))?.kind).toBe('none');
    expect(b.visibleIds()).toEqual(['r', 'a', 't']); // drawing order kept
    expect(b.byId.get('r')!.el).toEqual({ ...sh, x1: 100, y1: 100, x2: 150, y2: 120 });
    expect(b.byId.get('t')!.el).toEqual({ ...tx, text: 'b', size: 30 });
    expect(b.byId.get('a')!.el).toEqual({ ...s('a'), points: [1, 1, 2, 2], color: '#00ff00' });
    // erase/restore/clear work on every type; an update of a hidden element applies
    b.apply(ev(9, 'erase', { ids: ['r', 't'] }));
    b.apply(ev(10, 'update', { id: 'r', set: { fill: '#eeeeee' } }));
    b.apply(ev(11, 'restore', { ids: ['r'] }));
    expect(b.visibleIds()).toEqual(['r', 'a']);
    expect((b.byId.get('r')!.el as { fill?: string }).fill).toBe('#eeeeee');
    b.apply(ev(12, 'clear'));
    expect(b.visibleCount).toBe(0);
  });
});
