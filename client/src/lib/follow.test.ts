import { describe, expect, it } from 'vitest';
import { FollowState, transformFor, viewportOf, ViewportSender } from './follow';

describe('viewport <-> transform', () => {
  it('round-trips', () => {
    const t = { ox: -150, oy: 40, scale: 2 };
    const v = viewportOf(t);
    expect(v).toEqual({ x: 75, y: -20, scale: 2 });
    expect(transformFor(v)).toEqual(t);
  });
});

describe('FollowState', () => {
  const mk = () => new FollowState(() => 'me');

  it('follows a clicked user and jumps to their last viewport', () => {
    const f = mk();
    expect(f.onRemote({ from: 'ann', x: 10, y: 20, scale: 2 })).toBeNull();
    expect(f.follow('ann')).toEqual({ ox: -20, oy: -40, scale: 2 });
    expect(f.following).toBe('ann');
    expect(f.onRemote({ from: 'ann', x: 0, y: 0, scale: 1 })).toEqual({ ox: -0, oy: -0, scale: 1 });
    expect(f.onRemote({ from: 'bob', x: 5, y: 5, scale: 1 })).toBeNull();
  });

  it('never follows itself', () => {
    const f = mk();
    expect(f.follow('me')).toBeNull();
    expect(f.following).toBeNull();
    expect(f.onRemote({ from: 'me', x: 1, y: 1, scale: 1, lead: true })).toBeNull();
  });

  it('panning yourself stops following', () => {
    const f = mk();
    f.follow('ann');
    const t = f.onRemote({ from: 'ann', x: 10, y: 10, scale: 1 })!;
    expect(f.checkMoved(t)).toBe(false);
    expect(f.checkMoved({ ...t, ox: t.ox + 30 })).toBe(true);
    expect(f.following).toBeNull();
  });

  it('"follow me" grabs others once; who left is not grabbed again', () => {
    const f = mk();
    expect(f.onRemote({ from: 'ann', x: 1, y: 2, scale: 1, lead: true })).not.toBeNull();
    expect(f.following).toBe('ann');
    f.stop();
    expect(f.onRemote({ from: 'ann', x: 3, y: 2, scale: 1, lead: true })).toBeNull();
    expect(f.following).toBeNull();
    // an explicit click follows again
    expect(f.follow('ann')).toEqual({ ox: -3, oy: -2, scale: 1 });
  });

  it('a leader does not follow other leaders', () => {
    const f = mk();
    f.leading = true;
    expect(f.onRemote({ from: 'ann', x: 1, y: 2, scale: 1, lead: true })).toBeNull();
  });

  it('a view that clamps the leader\'s zoom keeps following', () => {
    const f = mk();
    f.follow('ann');
    f.onRemote({ from: 'ann', x: 0, y: 0, scale: 500 });
    const shown = { ox: -0, oy: -0, scale: 32 }; // this client's zoom limit
    f.noteApplied(shown);
    expect(f.checkMoved(shown)).toBe(false);
    expect(f.following).toBe('ann');
  });

  it('stops following someone who left', () => {
    const f = mk();
    f.follow('ann');
    expect(f.gone(new Set(['me', 'bob']))).toBe(true);
    expect(f.following).toBeNull();
  });
});

describe('ViewportSender', () => {
  it('sends on change, throttled, and keeps leading alive', () => {
    const s = new ViewportSender(100, 2000);
    const t = { ox: 0, oy: 0, scale: 1 };
    expect(s.next(t, 0, false)).toEqual({ x: -0, y: -0, scale: 1 });
    expect(s.next(t, 500, false)).toBeNull(); // unchanged
    expect(s.next({ ox: -10, oy: 0, scale: 1 }, 550, false)).toEqual({ x: 10, y: -0, scale: 1 });
    expect(s.next({ ox: -20, oy: 0, scale: 1 }, 560, false)).toBeNull(); // throttled
    expect(s.next({ ox: -20, oy: 0, scale: 1 }, 700, false)).toEqual({ x: 20, y: -0, scale: 1 });
    expect(s.next({ ox: -20, oy: 0, scale: 1 }, 1000, true)).toBeNull();
    expect(s.next({ ox: -20, oy: 0, scale: 1 }, 2800, true)).toEqual({ x: 20, y: -0, scale: 1, lead: true });
    expect(s.next({ ox: -20, oy: 0, scale: 1 }, 2810, true, true)).toEqual({ x: 20, y: -0, scale: 1, lead: true });
  });
});
