import { describe, expect, it } from 'vitest';
import { History } from './history';
import { BoardState } from './board';

let n = 0;
const op = () => 'op' + ++n;

describe('History (undo/redo as erase/restore)', () => {
  it('undo of a stroke erases it, redo restores it', () => {
    const h = new History();
    h.push({ kind: 'stroke', ids: ['a'] });
    expect(h.undo(op)).toMatchObject({ t: 'erase', ids: ['a'] });
    expect(h.undo(op)).toBeNull();
    expect(h.redo(op)).toMatchObject({ t: 'restore', ids: ['a'] });
    expect(h.redo(op)).toBeNull();
  });

  it('undo of an erase and of a clear restores exactly those ids', () => {
    const h = new History();
    h.push({ kind: 'erase', ids: ['a', 'b'] });
    h.push({ kind: 'clear', ids: ['c', 'd'] });
    expect(h.undo(op)).toMatchObject({ t: 'restore', ids: ['c', 'd'] });
    expect(h.undo(op)).toMatchObject({ t: 'restore', ids: ['a', 'b'] });
    expect(h.redo(op)).toMatchObject({ t: 'erase', ids: ['a', 'b'] });
    expect(h.redo(op)).toMatchObject({ t: 'erase', ids: ['c', 'd'] });
  });

  it('a new action drops the redo stack', () => {
    const h = new History();
    h.push({ kind: 'stroke', ids: ['a'] });
    h.undo(op);
    h.push({ kind: 'stroke', ids: ['b'] });
    expect(h.canRedo).toBe(false);
    expect(h.undo(op)).toMatchObject({ ids: ['b'] });
  });

  it('is collaboration-safe: undoing my stroke leaves the other user stroke alone', () => {
    const b = new BoardState();
    const h = new History();
    b.apply({ t: 'ev', seq: 1, kind: 'stroke', stroke: { id: 'mine', color: '#000000', width: 2, points: [0, 0] } });
    h.push({ kind: 'stroke', ids: ['mine'] });
    b.apply({ t: 'ev', seq: 2, kind: 'stroke', stroke: { id: 'theirs', color: '#000000', width: 2, points: [0, 0] } });
    const u = h.undo(op)!;
    b.apply({ t: 'ev', seq: 3, kind: u.t, ids: (u as { ids: string[] }).ids });
    expect(b.visibleIds()).toEqual(['theirs']);
    const r = h.redo(op)!;
    b.apply({ t: 'ev', seq: 4, kind: r.t, ids: (r as { ids: string[] }).ids });
    expect(b.visibleIds()).toEqual(['mine', 'theirs']);
  });
});
