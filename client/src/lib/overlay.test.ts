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
});
