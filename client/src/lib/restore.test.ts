import { describe, expect, it } from 'vitest';
import { chunks, restorePlan } from './restore';
import { shareLinks } from './links';

const s = (id: string) => ({ id, color: '#000000', width: 2, points: [0, 0, 1, 1] });

describe('restorePlan', () => {
  it('erases what was added and restores what was hidden since', () => {
    expect(restorePlan(['a', 'c', 'd'], [s('a'), s('b'), s('c')])).toEqual({ erase: ['d'], restore: ['b'], update: [] });
  });
  it('is empty when the board already matches', () => {
    expect(restorePlan(['a', 'b'], [s('a'), s('b')])).toEqual({ erase: [], restore: [], update: [] });
  });
  it('restores everything after a clear', () => {
    expect(restorePlan([], [s('a'), s('b')])).toEqual({ erase: [], restore: ['a', 'b'], update: [] });
  });
  it('empties the board for the version before anything was drawn', () => {
    expect(restorePlan(['a', 'b'], [])).toEqual({ erase: ['a', 'b'], restore: [], update: [] });
  });
  it('sets moved, resized and edited elements back to the version values', () => {
    const r = { type: 'shape' as const, id: 'r', kind: 'rect' as const, x1: 0, y1: 0, x2: 10, y2: 10, color: '#000000', width: 2 };
    const t = { type: 'text' as const, id: 't', x: 0, y: 0, size: 20, color: '#000000', text: 'old' };
    const now: Record<string, object> = { r: { ...r, x1: 5, y1: 5, x2: 15, y2: 15, fill: '#ffffff' }, t: { ...t, text: 'new' }, a: s('a') };
    const plan = restorePlan(['r', 'a'], [r, t, s('a')], (id) => (now[id] as never) ?? null);
    expect(plan.erase).toEqual([]);
    expect(plan.restore).toEqual(['t']);
    expect(plan.update).toEqual([
      { id: 'r', before: { x1: 5, y1: 5, x2: 15, y2: 15, fill: '#ffffff' }, after: { x1: 0, y1: 0, x2: 10, y2: 10, fill: null } },
      { id: 't', before: { text: 'new' }, after: { text: 'old' } },
    ]);
  });
  it('splits long id lists', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 2)).toEqual([]);
  });
});

describe('shareLinks', () => {
  it('gives an editor both links', () => {
    expect(shareLinks('https://h', 'B1', 'editor', 'V1')).toEqual({ edit: 'https://h/b/B1', view: 'https://h/b/V1' });
  });
  it('gives a viewer only the view link', () => {
    expect(shareLinks('https://h', 'V1', 'viewer', '')).toEqual({ edit: null, view: 'https://h/b/V1' });
  });
  it('has no view link before the welcome', () => {
    expect(shareLinks('https://h', 'B1', 'editor', '')).toEqual({ edit: 'https://h/b/B1', view: null });
  });
});
