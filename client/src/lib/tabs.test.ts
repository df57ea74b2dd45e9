import { describe, expect, it } from 'vitest';
import { adoptOrphans, heartbeat, outboxKey, STALE_MS, tabId, type ScanStorage } from './tabs';
import { Outbox } from './outbox';

class Mem implements ScanStorage {
  m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
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

describe('per-tab outboxes', () => {
  it('a tab id survives a reload (sessionStorage) and tabs do not share outboxes', () => {
    const session = new Mem();
    const id = tabId(session);
    expect(tabId(session)).toBe(id);
    expect(tabId(new Mem())).not.toBe(id);
    const ls = new Mem();
    const a = new Outbox(ls, outboxKey('B', 'tabA'));
    const b = new Outbox(ls, outboxKey('B', 'tabB'));
    a.add({ t: 'clear', op: 'o1' });
    b.add({ t: 'clear', op: 'o2' });
    b.ack('o2');
    expect(new Outbox(ls, outboxKey('B', 'tabA')).pending().map((o) => o.op)).toEqual(['o1']);
  });

  it('adopts the ops of a tab whose heartbeat is stale, not of a live one', () => {
    const ls = new Mem();
    const now = 1_000_000;
    new Outbox(ls, outboxKey('B', 'dead')).add({ t: 'clear', op: 'd1' });
    new Outbox(ls, outboxKey('B', 'live')).add({ t: 'clear', op: 'l1' });
    new Outbox(ls, outboxKey('OTHER', 'dead')).add({ t: 'clear', op: 'x1' });
    ls.setItem('wb.outbox.B', JSON.stringify([{ t: 'clear', op: 'legacy' }]));
    heartbeat(ls, 'dead', now - STALE_MS - 1);
    heartbeat(ls, 'live', now - 1000);
    const got = adoptOrphans(ls, 'B', 'me', now).map((o) => o.op).sort();
    expect(got).toEqual(['d1', 'legacy']);
    expect(ls.getItem(outboxKey('B', 'dead'))).toBeNull();
    expect(ls.getItem(outboxKey('B', 'live'))).not.toBeNull();
    expect(ls.getItem(outboxKey('OTHER', 'dead'))).not.toBeNull();
    expect(adoptOrphans(ls, 'B', 'me', now)).toEqual([]);
  });
});
