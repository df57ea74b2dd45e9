// Per-tab outbox persistence. Two tabs of one browser on the same board must
// not overwrite each other's persisted outbox, so each tab persists under its
// own key `wb.outbox.{board}.{tabId}` (the tab id lives in sessionStorage, so
// a reload keeps it). Each tab writes a heartbeat; a tab that finds an outbox
// whose owner's heartbeat is stale (closed tab, crash) adopts those ops: they
// are sent again with their own op ids, which the server de-duplicates.

import type { KVStorage } from './outbox';
import type { DurableOp } from './types';
import { randomId } from './ids';

export interface ScanStorage extends KVStorage {
  readonly length: number;
  key(i: number): string | null;
}

export const HEARTBEAT_MS = 5000;
export const STALE_MS = 20000;

export function tabId(session: KVStorage | null): string {
  let id = session?.getItem('wb.tab') ?? '';
  if (!/^[A-Za-z0-9_-]{8,32}$/.test(id)) {
    id = randomId(9);
    try {
      session?.setItem('wb.tab', id);
    } catch {
      /* ignore */
    }
  }
  return id;
}

export const outboxKey = (board: string, tab: string): string => `wb.outbox.${board}.${tab}`;

export function heartbeat(storage: KVStorage, tab: string, now = Date.now()): void {
  try {
    storage.setItem(`wb.tab.${tab}`, String(now));
  } catch {
    /* ignore */
  }
}

/** Take over the persisted outboxes of this board whose tab is gone. */
export function adoptOrphans(storage: ScanStorage, board: string, myTab: string, now = Date.now()): DurableOp[] {
  const prefix = `wb.outbox.${board}.`;
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (k && (k.startsWith(prefix) || k === `wb.outbox.${board}`)) keys.push(k);
  }
  const out: DurableOp[] = [];
  for (const k of keys) {
    const tab = k.length > prefix.length ? k.slice(prefix.length) : '';
    if (tab === myTab) continue;
    const beat = tab ? Number(storage.getItem(`wb.tab.${tab}`) ?? 0) : 0;
    if (now - beat < STALE_MS) continue; // that tab is alive: its ops are its own
    try {
      const list = JSON.parse(storage.getItem(k) ?? '[]');
      if (Array.isArray(list)) for (const op of list) if (op && typeof op.op === 'string') out.push(op);
    } catch {
      /* drop a corrupt entry */
    }
    storage.removeItem(k);
    if (tab) storage.removeItem(`wb.tab.${tab}`);
  }
  return out;
}
