import { describe, expect, it } from 'vitest';
import { SyncClient, type SocketLike } from './sync';

class Sock implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {
    this.readyState = 3;
  }
  recv(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
}

function joined(welcome: Record<string, unknown>) {
  const s = new Sock();
  const c = new SyncClient({ board: 'B1', name: 'me', url: () => 'ws://x/ws/B1', createSocket: () => s, storage: null });
  c.start();
  s.readyState = 1;
  s.onopen?.({});
  s.recv({ t: 'welcome', board: 'B1', client: 'c1', gateway: 'gw-1', seq: 0, resumed: false, ...welcome });
  s.recv({ t: 'snapshot', seq: 0, strokes: [] });
  return { c, s };
}

describe('section 7 in the sync client', () => {
  it('an editor learns its role and the view id', () => {
    const { c } = joined({ role: 'editor', view: 'V1abc' });
    expect(c.role).toBe('editor');
    expect(c.viewId).toBe('V1abc');
  });

  it('a viewer is a viewer; an old server means editor', () => {
    expect(joined({ role: 'viewer' }).c.role).toBe('viewer');
    expect(joined({}).c.role).toBe('editor');
  });

  it('relays viewports to listeners and sends its own', () => {
    const { c, s } = joined({ role: 'viewer' });
    const got: unknown[] = [];
    c.on({ viewport: (m) => got.push(m) });
    s.recv({ t: 'viewport', x: 1, y: 2, scale: 1.5, from: 'c2', lead: true });
    s.recv({ t: 'viewport', x: 1, y: 2, scale: 0, from: 'c2' }); // not a view: ignored
    expect(got).toEqual([{ t: 'viewport', x: 1, y: 2, scale: 1.5, from: 'c2', lead: true }]);
    expect(c.sendEphemeral({ t: 'viewport', x: 3, y: 4, scale: 2 })).toBe(true);
    expect(s.sent.at(-1)).toEqual({ t: 'viewport', x: 3, y: 4, scale: 2 });
  });

  it('a forbidden op is dropped from the outbox and reported', () => {
    const { c, s } = joined({ role: 'viewer' });
    const rejected: string[] = [];
    c.on({ rejected: (op, code) => rejected.push(`${op.op}:${code}`) });
    c.submit({ t: 'clear', op: 'o1' });
    expect(c.unacked).toBe(1);
    s.recv({ t: 'error', code: 'forbidden', op: 'o1', msg: 'view-only link' });
    expect(c.unacked).toBe(0);
    expect(rejected).toEqual(['o1:forbidden']);
  });
});
