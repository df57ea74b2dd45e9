import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BoardState } from '../lib/board';
import { TILE, TileLayer, type Surface } from './tiles';

// A recording stand-in for a 2D context (node has no canvas).
class FakeCtx {
  strokes = 0;
  clears = 0;
  draws = 0;
  lineCap = '';
  lineJoin = '';
  strokeStyle = '';
  fillStyle = '';
  lineWidth = 1;
  imageSmoothingEnabled = true;
  setTransform() {}
  clearRect() {
    this.clears++;
  }
  stroke() {
    this.strokes++;
  }
  fillRect() {
    this.strokes++;
  }
  drawImage() {
    this.draws++;
  }
  save() {}
  restore() {}
  beginPath() {}
  rect() {}
  clip() {}
}

class FakePath {
  moveTo() {}
  lineTo() {}
  quadraticCurveTo() {}
}

let now = 0;
beforeEach(() => {
  vi.stubGlobal('Path2D', FakePath);
  now = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function setup(n: number, spread = 100) {
  const board = new BoardState();
  for (let i = 0; i < n; i++) {
    const x = (i * spread) % 2000, y = Math.floor((i * spread) / 2000) * 50;
    board.apply({ t: 'ev', seq: i + 1, kind: 'stroke', stroke: { id: 's' + i, color: '#000000', width: 2, points: [x, y, x + 20, y + 10] } });
  }
  const surfaces: FakeCtx[] = [];
  const layer = new TileLayer(
    { order: () => board.order, visible: (e) => !e.hidden },
    () => {
      const ctx = new FakeCtx();
      surfaces.push(ctx);
      return { canvas: {} as OffscreenCanvas, ctx: ctx as unknown as Surface['ctx'] };
    },
  );
  const screen = new FakeCtx();
  const view = { S: 1, ox: 0, oy: 0, w: 1024, h: 512 }; // 2 x 1 tiles at K = 1
  const compose = (deadline = 1e9) => layer.compose(screen as unknown as CanvasRenderingContext2D, view, 1, null, deadline);
  return { board, layer, surfaces, screen, compose };
}

const painted = (s: FakeCtx[]) => s.reduce((a, c) => a + c.strokes, 0);

describe('TileLayer', () => {
  it('renders the visible tiles once, then only blits them', () => {
    const { layer, surfaces, screen, compose } = setup(40);
    expect(compose()).toBe(true);
    expect(layer.size).toBe(2);
    const p = painted(surfaces);
    expect(p).toBeGreaterThan(0);
    expect(compose()).toBe(true);
    expect(painted(surfaces)).toBe(p); // cached
    expect(screen.draws).toBe(4); // 2 tiles x 2 frames
  });

  it('draws a new stroke on top of the cached tiles it touches, without re-rendering', () => {
    const { board, layer, surfaces, compose } = setup(10);
    compose();
    const clears = surfaces.reduce((a, c) => a + c.clears, 0);
    const before = painted(surfaces);
    const ch = board.apply({ t: 'ev', seq: 100, kind: 'stroke', stroke: { id: 'new', color: '#ff0000', width: 2, points: [10, 10, 30, 30] } });
    if (ch?.kind !== 'append') throw new Error('append expected');
    layer.drawOnTop(ch.entry);
    expect(painted(surfaces)).toBe(before + 1);
    expect(compose()).toBe(true);
    expect(surfaces.reduce((a, c) => a + c.clears, 0)).toBe(clears);
  });

  it('an erase re-renders only the tiles under the stroke', () => {
    const { board, layer, surfaces, compose } = setup(10);
    compose();
    const n = surfaces.length;
    const ch = board.apply({ t: 'ev', seq: 100, kind: 'erase', ids: ['s0'] }); // s0 is in tile (0, 0)
    if (ch?.kind !== 'visibility') throw new Error('visibility expected');
    for (const e of ch.entries) layer.invalidate(e.bbox);
    expect(compose()).toBe(true);
    expect(surfaces.length).toBe(n + 1); // one work surface for the one dirty tile
  });

  it('renders within the time budget and resumes on the next frame', () => {
    const ref = setup(400, 5);
    ref.compose();
    const all = painted(ref.surfaces);
    const { surfaces, compose, screen } = setup(400, 5);
    // every performance.now() call advances the clock by 1 ms; budget 5 ms per frame
    vi.spyOn(performance, 'now').mockImplementation(() => now++);
    let frames = 0;
    let done = false;
    while (!done && frames < 1000) {
      done = compose(now + 5);
      frames++;
    }
    expect(done).toBe(true);
    expect(frames).toBeGreaterThan(1);
    expect(painted(surfaces)).toBe(all); // the same work as in one go: nothing painted twice
    expect(screen.draws).toBeGreaterThan(0);
  });

  it('nothing is rendered when the budget is already spent', () => {
    const { surfaces, compose } = setup(10);
    now = 100;
    expect(compose(50)).toBe(false);
    expect(painted(surfaces)).toBe(0);
  });

  it('tile size is 512 device pixels', () => {
    expect(TILE).toBe(512);
  });
});
