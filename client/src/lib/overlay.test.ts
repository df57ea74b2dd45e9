import { describe, expect, it } from 'vitest';
import { BoardState } from './board';
import { computeOverlay, visibleWith } from './overlay';
import type { Stroke } from './types';

const s = (id: string): Stroke => ({ id, color: '#000000', width: 2, points: [0, 0, 1, 1] });

function board(...ids: string[]) {
  const b = new BoardState();
  ids.forEach((id, i) => b.apply({ t: 'ev', seq: i + 1, kind: 'stroke', stroke: s(id) }));
  return b;
}
const vis = (b: BoardState, o: ReturnType<typeof computeOverlay>) => [
  ...b.order.filter((e) => visibleWith(o, e)).map((e) => e.el.id),
  ...[...o.strokes.values()].filter((p) => p.visible).map((p) => p.el.id),
];

describe('optimistic overlay of pending ops', () => {
  it('shows my pending strokes after the committed ones', () => {
    const b = board('a');
    const o = computeOverlay(b, [{ t: 'stroke', op: 'o1', stroke: s('mine') }]);
    expect(vis(b, o)).toEqual(['a', 'mine']);
  });
  it('a pending stroke already on the board is not shown twice', () => {
    const b = board('a', 'mine');
    expect(computeOverlay(b, [{ t: 'stroke', op: 'o1', stroke: s('mine') }]).strokes.size).toBe(0);
  });
  it('pending erase/restore hide and show at once', () => {
    const b = board('a', 'b');
    expect(vis(b, computeOverlay(b, [{ t: 'erase', op: 'o1', ids: ['a'] }]))).toEqual(['b']);
    expect(vis(b, computeOverlay(b, [{ t: 'erase', op: 'o1', ids: ['a'] }, { t: 'restore', op: 'o2', ids: ['a'] }]))).toEqual(['a', 'b']);
  });
  it('a pending clear hides everything, including my earlier pending strokes; later ops still apply', () => {
    const b = board('a', 'b');
    const o = computeOverlay(b, [
      { t: 'stroke', op: 'o1', stroke: s('p1') },
      { t: 'clear', op: 'o2' },
      { t: 'stroke', op: 'o3', stroke: s('p2') },
    ]);
    expect(vis(b, o)).toEqual(['p2']);
    const undo = computeOverlay(b, [{ t: 'clear', op: 'o2' }, { t: 'restore', op: 'o4', ids: ['a', 'b'] }]);
    expect(vis(b, undo)).toEqual(['a', 'b']);
  });
  it('erasing my own pending stroke hides it', () => {
    const b = board();
    const o = computeOverlay(b, [{ t: 'stroke', op: 'o1', stroke: s('p') }, { t: 'erase', op: 'o2', ids: ['p'] }]);
    expect(vis(b, o)).toEqual([]);
  });

  it('shows pending updates on committed and on pending elements', () => {
    const b = board('a');
    const sh = { type: 'shape' as const, id: 'r', kind: 'rect' as const, x1: 0, y1: 0, x2: 10, y2: 10, color: '#000000', width: 2 };
    const o = computeOverlay(b, [
      { t: 'update', op: 'o1', id: 'a', set: { points: [5, 5, 6, 6] } },
      { t: 'update', op: 'o2', id: 'a', set: { color: '#ff0000' } },
      { t: 'shape', op: 'o3', shape: sh },
      { t: 'update', op: 'o4', id: 'r', set: { x1: 1, y1: 1, x2: 2, y2: 2 } },
      { t: 'update', op: 'o5', id: 'unknown', set: { color: '#ff0000' } },
    ]);
    expect(o.updated.get('a')).toMatchObject({ points: [5, 5, 6, 6], color: '#ff0000' });
    expect(o.updated.has('unknown')).toBe(false);
    expect(o.strokes.get('r')!.el).toMatchObject({ x1: 1, y1: 1, x2: 2, y2: 2 });
    expect((b.byId.get('a')!.el as { points: number[] }).points).not.toEqual([5, 5, 6, 6]); // the board is untouched
  });
});
