import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from './backoff';
import { Outbox, type KVStorage } from './outbox';
import { SyncClient, type SocketLike } from './sync';
import type { DurableOp, Stroke } from './types';

class MemStorage implements KVStorage {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  /** frames sent (an array frame counts once; its messages are in sent one by one) */
  frames: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {}
  send(d: string) {
    this.frames.push(d);
    const v = JSON.parse(d);
    if (Array.isArray(v)) this.sent.push(...v);
    else this.sent.push(v);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  recv(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
  durable() {
    return this.sent.filter((m) => ['stroke', 'erase', 'restore', 'clear'].includes(m.t));
  }
}

const stroke = (id: string): Stroke => ({ id, color: '#112233', width: 3, points: [1, 2, 3, 4] });

function setup(storage: KVStorage | null = new MemStorage(), opts: Record<string, unknown> = {}) {
  const sockets: FakeSocket[] = [];
  const c = new SyncClient({
    board: 'B1',
    name: 'me',
    url: (since) => `ws://x/ws/B1?name=me${since === null ? '' : '&since=' + since}`,
    createSocket: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    storage,
    random: () => 0.5,
    ...opts,
  });
  return { c, sockets, last: () => sockets[sockets.length - 1] };
}

beforeEach(() => {
  vi.useFakeTimers();
});

describe('Outbox', () => {
  it('keeps ops until acked, in order, and persists them per board', () => {
    const st = new MemStorage();
    const o = new Outbox(st, 'wb.outbox.B');
    o.add({ t: 'stroke', op: 'o1', stroke: stroke('a') });
    o.add({ t: 'erase', op: 'o2', ids: ['a'] });
    expect(o.pending().map((x) => x.op)).toEqual(['o1', 'o2']);
    const again = new Outbox(st, 'wb.outbox.B');
    expect(again.pending().map((x) => x.op)).toEqual(['o1', 'o2']);
    expect(new Outbox(st, 'wb.outbox.OTHER').size).toBe(0);
    again.ack('o1');
    expect(new Outbox(st, 'wb.outbox.B').pending().map((x) => x.op)).toEqual(['o2']);
    again.ack('o2');
    expect(st.m.has('wb.outbox.B')).toBe(false);
  });
  it('survives corrupt storage', () => {
    const st = new MemStorage();
    st.setItem('k', '{nope');
    expect(new Outbox(st, 'k').size).toBe(0);
  });
});

describe('Backoff', () => {
  it('grows exponentially with jitter and is capped', () => {
    const b = new Backoff({ baseMs: 500, maxMs: 8000, random: () => 1 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    b.reset();
    expect(b.next()).toBe(500);
    const lo = new Backoff({ baseMs: 500, maxMs: 8000, random: () => 0 });
    expect([lo.next(), lo.next()]).toEqual([250, 500]);
  });
  it('jitter spreads delays', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const b = new Backoff({ baseMs: 1000 });
      b.next();
      b.next();
      seen.add(b.next());
    }
    expect(seen.size).toBeGreaterThan(5);
  });
});

describe('SyncClient', () => {
  it('re-syncs with a snapshot when a restore names a stroke it never saw', () => {
    const { c, sockets, last } = setup();
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 5, resumed: false });
    last().recv({ t: 'snapshot', seq: 5, strokes: [stroke('b')] }); // 'a' was erased before we joined
    last().recv({ t: 'ev', seq: 6, op: 'r1', kind: 'restore', ids: ['a'] });
    vi.runOnlyPendingTimers();
    expect(sockets.length).toBe(2);
    expect(last().url).not.toContain('since'); // a fresh snapshot, not a resume
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c2', gateway: 'gw-2', seq: 6, resumed: false });
    last().recv({ t: 'snapshot', seq: 6, strokes: [stroke('a'), stroke('b')] });
    expect(c.board.visibleIds()).toEqual(['a', 'b']);
    // a restore of known strokes does not reconnect
    last().recv({ t: 'ev', seq: 7, op: 'e1', kind: 'erase', ids: ['a'] });
    last().recv({ t: 'ev', seq: 8, op: 'r2', kind: 'restore', ids: ['a'] });
    vi.runOnlyPendingTimers();
    expect(sockets.length).toBe(2);
  });

  it('accepts single objects and arrays; snapshot then ev; dedupes by seq', () => {
    const { c, last } = setup();
    c.start();
    expect(last().url).not.toContain('since');
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 2, resumed: false });
    last().recv([
      { t: 'snapshot', seq: 2, strokes: [stroke('a'), stroke('b')] },
      { t: 'ev', seq: 3, op: 'x', kind: 'stroke', stroke: stroke('c') },
    ]);
    last().recv({ t: 'ev', seq: 3, op: 'x', kind: 'erase', ids: ['a'] }); // duplicate seq: ignored
    expect(c.board.visibleIds()).toEqual(['a', 'b', 'c']);
    expect(c.state).toBe('connected');
    expect(c.gateway).toBe('gw-1');
    expect(c.board.seq).toBe(3);
  });

  it('keeps ops until ack and resends unacked ones after reconnect with the same op ids, after the replay', () => {
    const { c, last, sockets } = setup();
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    c.submit({ t: 'stroke', op: 'o1', stroke: stroke('s1') });
    c.submit({ t: 'stroke', op: 'o2', stroke: stroke('s2') });
    expect(last().durable().map((m) => m.op)).toEqual(['o1', 'o2']);
    last().recv({ t: 'ack', op: 'o1', seq: 1 });
    last().recv({ t: 'ev', seq: 1, op: 'o1', from: 'c1', kind: 'stroke', stroke: stroke('s1') });
    expect(c.unacked).toBe(1);

    // gateway dies before o2 is acked; more is drawn while offline
    last().drop();
    expect(c.state).toBe('reconnecting');
    c.submit({ t: 'erase', op: 'o3', ids: ['s1'] });
    expect(c.unacked).toBe(2);
    expect(sockets).toHaveLength(1);

    vi.advanceTimersByTime(c.nextRetryAt - Date.now() + 1);
    expect(sockets).toHaveLength(2);
    expect(last().url).toContain('since=1');
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c9', gateway: 'gw-2', seq: 2, resumed: true });
    // the replay is not complete yet (server knows seq 2): nothing resent
    expect(last().durable()).toEqual([]);
    last().recv({ t: 'ev', seq: 2, op: 'other', from: 'c5', kind: 'stroke', stroke: stroke('z') });
    expect(last().durable().map((m) => m.op)).toEqual(['o2', 'o3']);
    expect(c.gateway).toBe('gw-2');
    last().recv([
      { t: 'ack', op: 'o2', seq: 3 },
      { t: 'ack', op: 'o3', seq: 4 },
    ]);
    expect(c.unacked).toBe(0);
    // acked but not yet seen: still pending for the view
    expect(c.pendingOps().map((o) => o.op)).toEqual(['o2', 'o3']);
    last().recv({ t: 'ev', seq: 3, op: 'o2', kind: 'stroke', stroke: stroke('s2') });
    last().recv({ t: 'ev', seq: 4, op: 'o3', kind: 'erase', ids: ['s1'] });
    expect(c.pendingOps()).toEqual([]);
    expect(c.board.visibleIds()).toEqual(['z', 's2']);
  });

  it('an ev carrying my op counts as its ack; resend happens after a snapshot too', () => {
    const { c, last } = setup();
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    c.submit({ t: 'stroke', op: 'o1', stroke: stroke('s1') });
    c.submit({ t: 'clear', op: 'o2' });
    last().recv({ t: 'ev', seq: 1, op: 'o1', kind: 'stroke', stroke: stroke('s1') });
    expect(c.outbox.pending().map((o) => o.op)).toEqual(['o2']);
    last().drop();
    vi.advanceTimersByTime(60_000);
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 5, resumed: false });
    expect(last().durable()).toEqual([]);
    last().recv({ t: 'snapshot', seq: 5, strokes: [stroke('s1')] });
    expect(last().durable().map((m) => m.op)).toEqual(['o2']);
  });

  it('persists the outbox: ops drawn offline survive a reload and are sent on connect', () => {
    const st = new MemStorage();
    const a = setup(st);
    a.c.start();
    a.c.submit({ t: 'stroke', op: 'off1', stroke: stroke('q') }); // never connected
    a.c.stop();
    const b = setup(st);
    expect(b.c.unacked).toBe(1);
    b.c.start();
    b.last().open();
    b.last().recv({ t: 'welcome', board: 'B1', client: 'c2', gateway: 'gw-1', seq: 0, resumed: false });
    b.last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    expect(b.last().durable().map((m) => m.op)).toEqual(['off1']);
  });

  it('keeps ops refused with unavailable / rate_limited and sends them again later', () => {
    const { c, last } = setup();
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    c.submit({ t: 'stroke', op: 'o1', stroke: stroke('s1') });
    c.submit({ t: 'stroke', op: 'o2', stroke: stroke('s2') });
    last().recv({ t: 'error', code: 'unavailable', op: 'o1', msg: 'js down' });
    last().recv({ t: 'error', code: 'bad_message', op: 'o2' });
    expect(c.outbox.pending().map((o) => o.op)).toEqual(['o1']); // o2 can never succeed
    const before = last().durable().length;
    vi.advanceTimersByTime(2500);
    expect(last().durable().slice(before).map((m) => m.op)).toEqual(['o1']);
  });

  it('reconnects with growing delays while the server is down, resets after welcome', () => {
    const { c, last, sockets } = setup();
    c.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      last().drop();
      delays.push(c.nextRetryAt - Date.now());
      vi.advanceTimersByTime(delays[i]);
    }
    expect(sockets).toHaveLength(6);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]);
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    expect(c.backoff.attempt).toBe(0);
  });

  it('pings every 5 s, measures RTT, and drops a connection that stops answering', () => {
    const { c, last, sockets } = setup();
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    expect(last().sent.find((m) => m.t === 'ping')).toBeUndefined();
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    const ping = last().sent.find((m) => m.t === 'ping');
    expect(ping).toBeTruthy();
    vi.advanceTimersByTime(40);
    last().recv({ t: 'pong', ts: ping.ts });
    expect(c.rtt).toBe(40);
    vi.advanceTimersByTime(5000);
    expect(last().sent.filter((m) => m.t === 'ping')).toHaveLength(2);
    vi.advanceTimersByTime(20000); // no pong any more
    expect(c.state).toBe('reconnecting');
    vi.advanceTimersByTime(60000);
    expect(sockets.length).toBeGreaterThan(1);
  });

  it('a server whose history is behind what we applied (reset) gets a fresh join without since', () => {
    const { c, last, sockets } = setup();
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 50, resumed: false });
    last().recv({ t: 'snapshot', seq: 50, strokes: [stroke('a')] });
    last().drop();
    vi.advanceTimersByTime(60_000);
    expect(last().url).toContain('since=50');
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 3, resumed: true });
    vi.advanceTimersByTime(1);
    expect(sockets.length).toBe(3);
    expect(last().url).not.toContain('since');
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 3, resumed: false });
    last().recv({ t: 'snapshot', seq: 3, strokes: [stroke('x')] });
    expect(c.board.visibleIds()).toEqual(['x']);
    last().recv({ t: 'ev', seq: 4, op: 'n', kind: 'stroke', stroke: stroke('y') });
    expect(c.board.visibleIds()).toEqual(['x', 'y']);
  });

  it('does not send ephemeral messages while disconnected', () => {
    const { c, last } = setup();
    c.start();
    expect(c.sendEphemeral({ t: 'cursor', x: 1, y: 2 })).toBe(false);
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    expect(c.sendEphemeral({ t: 'cursor', x: 1, y: 2 })).toBe(true);
  });

  it('paces a large resend under the server rate limit', () => {
    const { c, last } = setup(new MemStorage(), { flushBatch: 50, flushTickMs: 500 });
    c.start();
    for (let i = 0; i < 120; i++) c.submit({ t: 'stroke', op: 'p' + i, stroke: stroke('s' + i) } as DurableOp);
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    expect(last().durable()).toHaveLength(50);
    vi.advanceTimersByTime(500);
    expect(last().durable()).toHaveLength(100);
    vi.advanceTimersByTime(500);
    expect(last().durable().map((m) => m.op)).toEqual(Array.from({ length: 120 }, (_, i) => 'p' + i));
    // each tick's ops went out as one array frame
    const durableFrames = last().frames.filter((f) => f.startsWith('['));
    expect(durableFrames.map((f) => JSON.parse(f).length)).toEqual([50, 50, 20]);
  });

  it('splits a flush into array frames under the size bound; a huge op goes alone; order kept', () => {
    const { c, last } = setup(new MemStorage());
    c.start();
    const pts = (k: number) => Array.from({ length: k }, (_, i) => i % 100);
    const big = (id: string, k: number): Stroke => ({ id, color: '#112233', width: 3, points: pts(k) });
    // ~23 KB each (8000 numbers of 1-2 digits): two fit a 64 K frame, a third does not
    const ops = ['a', 'b', 'c', 'd', 'e'].map((x) => ({ t: 'stroke', op: 'q' + x, stroke: big(x, 8000) }) as DurableOp);
    const huge = big('huge', 20000);
    huge.points = Array.from({ length: 20000 }, () => 123456); // ~140 KB: alone, in its own frame
    ops.splice(2, 0, { t: 'stroke', op: 'qhuge', stroke: huge } as DurableOp);
    for (const op of ops) c.submit(op);
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false });
    last().recv({ t: 'snapshot', seq: 0, strokes: [] });
    expect(last().durable().map((m) => m.op)).toEqual(ops.map((o) => o.op));
    const frames = last().frames.filter((f) => f.includes('"stroke"'));
    for (const f of frames) expect(f.length <= 64 * 1024 || !f.startsWith('[')).toBe(true);
    const shape = frames.map((f) => (f.startsWith('[') ? JSON.parse(f).map((m: DurableOp) => m.op) : JSON.parse(f).op));
    expect(shape).toEqual([['qa', 'qb'], 'qhuge', ['qc', 'qd'], 'qe']);
  });

  it('shape, text and update ops: sent, acked by their ev; drafts of every kind reach the listener; snapshot elements ack pending adds', () => {
    const { c, last } = setup();
    const drafts: unknown[] = [];
    c.on({ draft: (m) => drafts.push(m) });
    const shape = { type: 'shape' as const, id: 'r', kind: 'rect' as const, x1: 0, y1: 0, x2: 10, y2: 10, color: '#112233', width: 2 };
    const text = { type: 'text' as const, id: 't', x: 0, y: 0, size: 20, color: '#112233', text: 'hi' };
    c.submit({ t: 'shape', op: 'o1', shape });
    c.submit({ t: 'text', op: 'o2', text });
    c.submit({ t: 'update', op: 'o3', id: 'r', set: { x1: 5, y1: 5, x2: 15, y2: 15 } });
    c.start();
    last().open();
    last().recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 1, resumed: false });
    // the snapshot already has the shape (sent on an earlier connection): its op is done
    last().recv({ t: 'snapshot', seq: 1, strokes: [{ ...shape, by: 'c1' }] });
    expect(c.pendingOps().map((o) => o.op)).toEqual(['o2', 'o3']);
    expect(last().sent.filter((m) => m.t !== 'ping').map((m) => m.op)).toEqual(['o2', 'o3']);
    last().recv({ t: 'ev', seq: 2, op: 'o2', kind: 'text', text: { ...text, by: 'c1' } });
    last().recv({ t: 'ev', seq: 3, op: 'o3', kind: 'update', id: 'r', set: { x1: 5, y1: 5, x2: 15, y2: 15 } });
    expect(c.unacked).toBe(0);
    expect(c.board.visibleIds()).toEqual(['r', 't']);
    expect(c.board.byId.get('r')!.el).toMatchObject({ x1: 5, x2: 15 });
    last().recv([
      { t: 'draft', shape, from: 'x' },
      { t: 'draft', text, from: 'x' },
      { t: 'draft', update: { id: 'r', set: { color: '#ff0000' } }, from: 'x' },
      { t: 'draft', from: 'x' },
    ]);
    expect(drafts).toHaveLength(3);
    expect(c.sendEphemeral({ t: 'draft', update: { id: 'r', set: { x: 1, y: 2 } } })).toBe(true);
    expect(last().sent[last().sent.length - 1]).toEqual({ t: 'draft', update: { id: 'r', set: { x: 1, y: 2 } } });
  });
});
