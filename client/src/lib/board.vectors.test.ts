// The client's board state against the shared board-state vectors
// (tests/vectors/*.json, docs/protocol.md §4), the same files the C fold, the
// worker's SQL and the Python fold are checked with. The client applies ops in
// seq order only (a redelivered or older seq is ignored), so the vectors'
// out-of-order delivery plans are for the order-independent implementations.
import { describe, expect, it } from 'vitest';
import { BoardState } from './board';
import type { Element, EvMsg } from './types';

interface Vector {
  name: string;
  about: string;
  ops: EvMsg[];
  visible: Element[];
  orders: number[][][];
}

const files = import.meta.glob<Vector>('../../../tests/vectors/*.json', { eager: true, import: 'default' });
const vectors = Object.values(files);

const visible = (b: BoardState): Element[] => b.order.filter((e) => !e.hidden).map((e) => e.el);

describe('board-state vectors', () => {
  it('are found', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
  });

  for (const v of vectors) {
    it(`${v.name}: ${v.about}`, () => {
      const b = new BoardState();
      for (const ev of v.ops) expect(b.apply(ev)).not.toBeNull();
      expect(visible(b)).toEqual(v.visible);
      expect(b.visibleIds()).toEqual(v.visible.map((s) => s.id));
      expect(b.visibleCount).toBe(v.visible.length);
      expect(b.seq).toBe(v.ops[v.ops.length - 1].seq);
      // Every op delivered again (a reconnect's overlap) changes nothing.
      for (const ev of v.ops) expect(b.apply(ev)).toBeNull();
      expect(visible(b)).toEqual(v.visible);
    });
  }
});
