import { describe, expect, it } from 'vitest';
import { chunks, restorePlan } from './restore';
import { shareLinks } from './links';

const s = (id: string) => ({ id, color: '#000000', width: 2, points: [0, 0, 1, 1] });

describe('restorePlan', () => {
  it('erases what was added and restores what was hidden since', () => {
    expect(restorePlan(['a', 'c', 'd'], [s('a'), s('b'), s('c')])).toEqual({ erase: ['d'], restore: ['b'] });
  });
  it('is empty when the board already matches', () => {
    expect(restorePlan(['a', 'b'], [s('a'), s('b')])).toEqual({ erase: [], restore: [] });
  });
  it('restores everything after a clear', () => {
    expect(restorePlan([], [s('a'), s('b')])).toEqual({ erase: [], restore: ['a', 'b'] });
  });
  it('empties the board for the version before anything was drawn', () => {
    expect(restorePlan(['a', 'b'], [])).toEqual({ erase: ['a', 'b'], restore: [] });
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
