// The outbox keeps every durable op until the server acks it, in the order
// the ops were made, and persists them (per board) so that what is drawn
// while offline survives a reload. Ops are resent with the same op ids.

import type { DurableOp } from './types';

export interface KVStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export class Outbox {
  private readonly items = new Map<string, DurableOp>();

  constructor(
    private readonly storage: KVStorage | null,
    private readonly key: string,
  ) {
    this.load();
  }

  private load(): void {
    if (!this.storage) return;
    try {
      const raw = this.storage.getItem(this.key);
      if (!raw) return;
      const list = JSON.parse(raw) as DurableOp[];
      if (!Array.isArray(list)) return;
      for (const op of list) {
        if (op && typeof op.op === 'string' && typeof op.t === 'string') this.items.set(op.op, op);
      }
    } catch {
      /* a corrupt entry is dropped */
    }
  }

  private save(): void {
    if (!this.storage) return;
    try {
      if (this.items.size === 0) this.storage.removeItem(this.key);
      else this.storage.setItem(this.key, JSON.stringify([...this.items.values()]));
    } catch {
      /* quota: keep going in memory */
    }
  }

  add(op: DurableOp): void {
    this.items.set(op.op, op);
    this.save();
  }

  has(op: string): boolean {
    return this.items.has(op);
  }

  get(op: string): DurableOp | undefined {
    return this.items.get(op);
  }

  /** Remove an op once it is acked (or seen in the board's op stream). Returns it. */
  ack(op: string): DurableOp | undefined {
    const it = this.items.get(op);
    if (it) {
      this.items.delete(op);
      this.save();
    }
    return it;
  }

  /** Unacked ops, oldest first. */
  pending(): DurableOp[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }
}
