// Speed of the client board state (run with `npx vitest bench --run` in
// client/): printed, never asserted; board.test.ts checks correctness.
import { bench, describe } from 'vitest';
import { BoardState } from './board';
import type { EvMsg, Stroke } from './types';

const s = (id: string, x = 0): Stroke => ({ id, color: '#000000', width: 2, points: [x, 0, x + 10, 10] });
const ev = (seq: number, kind: EvMsg['kind'], extra: Partial<EvMsg> = {}): EvMsg => ({ t: 'ev', seq, kind, op: 'o' + seq, ...extra });

describe('BoardState', () => {
  bench('20,000 strokes then 20,000 erases', () => {
    const b = new BoardState();
    for (let i = 1; i <= 20000; i++) b.apply(ev(i, 'stroke', { stroke: s('s' + i, i) }));
    for (let i = 1; i <= 20000; i++) b.apply(ev(20000 + i, 'erase', { ids: ['s' + i] }));
  });
});
