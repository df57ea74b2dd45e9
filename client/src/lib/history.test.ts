import { describe, expect, it } from 'vitest';
import { History } from './history';
import { BoardState } from './board';

let n = 0;
const op = () => 'op' + ++n;

describe('History (undo/redo as erase/restore)', () => {
  it('undo of a stroke erases it, redo restores it', () => {
    const h = new History();
    h.push({ kind: 'stroke', ids: ['a'] });
    expect(h.undo(op)[0]).toMatchObject({ t: 'erase', ids: ['a'] });
    expect(h.undo(op)).toEqual([]);
    expect(h.redo(op)[0]).toMatchObject({ t: 'restore', ids: ['a'] });
    expect(h.redo(op)).toEqual([]);
  });

  it('undo of an erase and of a clear restores exactly those ids', () => {
    const h = new History();
    h.push({ kind: 'erase', ids: ['a', 'b'] });
    h.push({ kind: 'clear', ids: ['c', 'd'] });
    expect(h.undo(op)[0]).toMatchObject({ t: 'restore', ids: ['c', 'd'] });
    expect(h.undo(op)[0]).toMatchObject({ t: 'restore', ids: ['a', 'b'] });
    expect(h.redo(op)[0]).toMatchObject({ t: 'erase', ids: ['a', 'b'] });
    expect(h.redo(op)[0]).toMatchObject({ t: 'erase', ids: ['c', 'd'] });
  });

  it('a new action drops the redo stack', () => {
    const h = new History();
    h.push({ kind: 'stroke', ids: ['a'] });
    h.undo(op);
    h.push({ kind: 'stroke', ids: ['b'] });
    expect(h.canRedo).toBe(false);
    expect(h.undo(op)[0]).toMatchObject({ ids: ['b'] });
  });

  it('is collaboration-safe: undoing my stroke leaves the other user stroke alone', () => {
    const b = new BoardState();
    const h = new History();
    b.apply({ t: 'ev', seq: 1, kind: 'stroke', stroke: { id: 'mine', color: '#000000', width: 2, points: [0, 0] } });
    h.push({ kind: 'stroke', ids: ['mine'] });
    b.apply({ t: 'ev', seq: 2, kind: 'stroke', stroke: { id: 'theirs', color: '#000000', width: 2, points: [0, 0] } });
    const u = h.undo(op)[0];
    b.apply({ t: 'ev', seq: 3, kind: u.t, ids: (u as { ids: string[] }).ids });
    expect(b.visibleIds()).toEqual(['theirs']);
    const r = h.redo(op)[0];
    b.apply({ t: 'ev', seq: 4, kind: r.t, ids: (r as { ids: string[] }).ids });
    expect(b.visibleIds()).toEqual(['mine', 'theirs']);
  });

  it('undo of an update sets the previous values back, redo sets them again', () => {
    const b = new BoardState();
    const h = new History();
    b.apply({ t: 'ev', seq: 1, kind: 'shape', shape: { type: 'shape', id: 'r', kind: 'rect', x1: 0, y1: 0, x2: 10, y2: 10, color: '#000000', width: 2 } });
    h.push({ kind: 'update', changes: [{ id: 'r', before: { x1: 0, y1: 0, x2: 10, y2: 10 }, after: { x1: 5, y1: 5, x2: 15, y2: 15 } }] });
    b.apply({ t: 'ev', seq: 2, kind: 'update', id: 'r', set: { x1: 5, y1: 5, x2: 15, y2: 15 } });
    const u = h.undo(op);
    expect(u).toHaveLength(1);
    expect(u[0]).toMatchObject({ t: 'update', id: 'r', set: { x1: 0, y1: 0, x2: 10, y2: 10 } });
    b.apply({ t: 'ev', seq: 3, kind: 'update', id: 'r', set: (u[0] as { set: object }).set });
    expect(b.byId.get('r')!.el).toMatchObject({ x1: 0, y1: 0, x2: 10, y2: 10 });
    const r = h.redo(op);
    expect(r[0]).toMatchObject({ t: 'update', id: 'r', set: { x1: 5, y1: 5, x2: 15, y2: 15 } });
    expect(r[0].op).not.toBe(u[0].op);
  });

  it('undo of a multi-element move is one update per element; an add (duplicate) is undone by erase', () => {
    const h = new History();
    h.push({ kind: 'update', changes: [] });
    expect(h.canUndo).toBe(false);
    h.push({ kind: 'update', changes: [{ id: 'a', before: { x: 0, y: 0 }, after: { x: 1, y: 1 } }, { id: 'b', before: { points: [0, 0] }, after: { points: [1, 1] } }] });
    h.push({ kind: 'stroke', ids: ['c1', 'c2'] });
    expect(h.undo(op)).toMatchObject([{ t: 'erase', ids: ['c1', 'c2'] }]);
    expect(h.undo(op)).toMatchObject([{ t: 'update', id: 'a', set: { x: 0, y: 0 } }, { t: 'update', id: 'b', set: { points: [0, 0] } }]);
    expect(h.redo(op)).toMatchObject([{ t: 'update', id: 'a', set: { x: 1, y: 1 } }, { t: 'update', id: 'b', set: { points: [1, 1] } }]);
    expect(h.redo(op)).toMatchObject([{ t: 'restore', ids: ['c1', 'c2'] }]);
  });
});
