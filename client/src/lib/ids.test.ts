import { describe, expect, it } from 'vitest';
import { newBoardId, randomId } from './ids';
import { BOARD_ID_RE } from './types';

describe('ids', () => {
  it('board ids are 22 base64url chars (128 bits) and unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = newBoardId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(BOARD_ID_RE.test(id)).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });
  it('other lengths', () => {
    expect(randomId(12)).toHaveLength(16);
    expect(randomId(3)).toHaveLength(4);
    expect(randomId(1)).toHaveLength(2);
  });
});
