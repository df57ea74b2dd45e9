// SyncClient: one board's connection, board state and outbox. No DOM needed
// (the socket factory, timers, clock and storage are injected), so the whole
// resilience logic is unit tested.
//
//  - connects to /ws/{board}?name=..&since=.. with subprotocol wb.v1
//  - applies snapshot / ev in seq order, ignoring ev with seq <= last applied
//  - keeps every durable op in the outbox until `ack` (or until its ev is seen)
//  - after welcome + replay/snapshot, resends the unacked ops with the same op ids
//  - reconnects with exponential backoff + jitter, resuming with since=seq
//  - ping every 5 s; pong gives the RTT; no pong for 15 s -> reconnect

import { Backoff } from './backoff';
import { BoardState, type BoardChange } from './board';
import { Outbox, type KVStorage } from './outbox';
import type { DraftMsg, DraftOut, DurableOp, EvMsg, PresenceClient, Role, ServerMsg, ViewportMsg } from './types';

export interface SocketLike {
  readonly readyState: number;
  readonly protocol?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(h: unknown): void;
}

export interface SyncOptions {
  board: string;
  name: string;
  /** builds the socket URL; `since` is null on the very first connection */
  url: (since: number | null) => string;
  createSocket: (url: string) => SocketLike;
  storage?: KVStorage | null;
  /** localStorage key of the persisted outbox (default wb.outbox.{board}) */
  outboxKey?: string;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  isOnline?: () => boolean;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  syncTimeoutMs?: number;
  /** durable ops sent per flush tick and the tick length (client-side pacing) */
  flushBatch?: number;
  flushTickMs?: number;
}

export interface SyncListener {
  /** board state changed (incl. 'reset' for a snapshot) */
  board?(change: BoardChange): void;
  /** the set of pending (unacked or acked-but-not-yet-seen) ops changed */
  pending?(): void;
  status?(): void;
  /** a remote draft: a stroke's new points, or a whole shape, text or update */
  draft?(msg: DraftMsg): void;
  cursor?(msg: { x: number; y: number; from?: string; name?: string }): void;
  viewport?(msg: ViewportMsg): void;
  presence?(clients: PresenceClient[]): void;
  rejected?(op: DurableOp, code: string, msg?: string): void;
  error?(code: string, msg?: string): void;
}

const OPEN = 1;
/** Largest array frame of a flush, in UTF-16 units: at most 3 bytes each in UTF-8, so under the
 *  gateway's 256 KiB frame limit (WB_MAX_FRAME). A larger op still goes alone, in its own frame. */
const FRAME_CHARS = 64 * 1024;
const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as number),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h as number),
};

export class SyncClient {
  readonly board = new BoardState();
  readonly outbox: Outbox;
  readonly backoff: Backoff;
  state: ConnState = 'connecting';
  gateway = '';
  clientId = '';
  /** docs/protocol.md §9: this connection's role, and (editors) the board's view id */
  role: Role = 'editor';
  viewId = '';
  rtt: number | null = null;
  /** when the next reconnect attempt happens (ms, same clock as `now`) */
  nextRetryAt = 0;
  /** number of connections opened (1 = first) */
  connections = 0;
  /** seq a snapshot has set at least once (before that, `since` is not sent) */
  private haveState = false;
  private ws: SocketLike | null = null;
  private synced = false;
  private awaitSeq = 0;
  private needSnapshot = false;
  private sentHere = new Set<string>();
  private readonly ackedUnseen = new Map<string, { op: DurableOp; seq: number }>();
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private syncTimer: unknown = null;
  private flushTimer: unknown = null;
  private lastPong = 0;
  private closedByUser = false;
  private readonly listeners = new Set<SyncListener>();
  private readonly t: Timers;
  private readonly now: () => number;
  private readonly o: SyncOptions;

  constructor(o: SyncOptions) {
    this.o = o;
    this.t = o.timers ?? defaultTimers;
    this.now = o.now ?? (() => Date.now());
    this.outbox = new Outbox(o.storage ?? null, o.outboxKey ?? `wb.outbox.${o.board}`);
    this.backoff = new Backoff({ random: o.random });
  }

  on(l: SyncListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit<K extends keyof SyncListener>(k: K, ...args: Parameters<NonNullable<SyncListener[K]>>): void {
    for (const l of this.listeners) {
      const f = l[k] as ((...a: unknown[]) => void) | undefined;
      if (f) f.apply(l, args);
    }
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === OPEN;
  }
  get isSynced(): boolean {
    return this.synced && this.isOpen;
  }
  get unacked(): number {
    return this.outbox.size;
  }

  /** ops not yet reflected in the board state, in the order they were made */
  pendingOps(): DurableOp[] {
    const out = [...this.ackedUnseen.values()].sort((a, b) => a.seq - b.seq).map((x) => x.op);
    for (const op of this.outbox.pending()) out.push(op);
    return out;
  }

  start(): void {
    this.closedByUser = false;
    this.connect();
  }

  stop(): void {
    this.closedByUser = true;
    this.clearTimers();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        /* ignore */
      }
    }
  }

  private clearTimers(): void {
    for (const h of [this.retryTimer, this.syncTimer, this.flushTimer]) if (h !== null) this.t.clearTimeout(h);
    if (this.pingTimer !== null) this.t.clearInterval(this.pingTimer);
    this.retryTimer = this.syncTimer = this.flushTimer = this.pingTimer = null;
  }

  /** Drop the current connection (if any) and connect again right away (e.g. the name changed). */
  reconnect(): void {
    if (this.closedByUser) return;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        /* ignore */
      }
    }
    this.clearTimers();
    this.connect();
  }

  /** Reconnect right now (e.g. the browser came back online). */
  reconnectNow(): void {
    if (this.closedByUser || this.isOpen) return;
    if (this.retryTimer !== null) this.t.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  private connect(): void {
    this.synced = false;
    this.sentHere.clear();
    this.connections++;
    this.setState(this.connections === 1 ? 'connecting' : this.state === 'offline' ? 'offline' : 'reconnecting');
    let ws: SocketLike;
    try {
      ws = this.o.createSocket(this.o.url(this.haveState ? this.board.seq : null));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastPong = this.now();
      this.pingTimer = this.t.setInterval(() => this.tick(), this.o.pingIntervalMs ?? 5000);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        return;
      }
      const list = Array.isArray(parsed) ? parsed : [parsed];
      for (const m of list) if (m && typeof m === 'object') this.handle(m as ServerMsg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onDisconnected();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private onDisconnected(): void {
    this.synced = false;
    this.clearTimers();
    if (this.closedByUser) return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.nextRetryAt = this.now() + delay;
    const online = this.o.isOnline ? this.o.isOnline() : true;
    this.setState(online ? 'reconnecting' : 'offline');
    this.retryTimer = this.t.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private setState(s: ConnState): void {
    this.state = s;
    this.emit('status');
  }

  private tick(): void {
    if (!this.isOpen) return;
    if (this.now() - this.lastPong > (this.o.pongTimeoutMs ?? 15000)) {
      // a dead connection that never closed: drop it and reconnect
      const ws = this.ws!;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(4000, 'no pong');
      } catch {
        /* ignore */
      }
      this.onDisconnected();
      return;
    }
    this.ping();
  }

  private ping(): void {
    this.sendRaw({ t: 'ping', ts: this.now() });
  }

  private sendRaw(msg: object): boolean {
    return this.sendText(JSON.stringify(msg));
  }

  private sendText(text: string): boolean {
    if (!this.isOpen) return false;
    try {
      this.ws!.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Ephemeral messages (draft, cursor): sent only while connected, never queued. */
  sendEphemeral(
    msg: DraftOut | { t: 'cursor'; x: number; y: number } | { t: 'viewport'; x: number; y: number; scale: number; lead?: boolean },
  ): boolean {
    if (!this.isSynced) return false;
    return this.sendRaw(msg);
  }

  /** A durable op: kept in the outbox until acked, sent now if possible. */
  submit(op: DurableOp): void {
    this.outbox.add(op);
    this.emit('pending');
    this.emit('status');
    if (this.isSynced) this.flush();
  }

  /** Take over ops persisted by another (closed) tab; they keep their op ids. */
  adopt(ops: DurableOp[]): void {
    let n = 0;
    for (const op of ops) {
      if (this.outbox.has(op.op)) continue;
      this.outbox.add(op);
      n++;
    }
    if (!n) return;
    this.emit('pending');
    this.emit('status');
    if (this.isSynced) this.flush();
  }

  private handle(m: ServerMsg): void {
    switch (m.t) {
      case 'welcome': {
        if (m.resumed && typeof m.seq === 'number' && m.seq < this.board.seq) {
          // the server knows less than we applied: its history was reset
          // (e.g. a new stream). Our seqs mean nothing there: start over
          // with a snapshot (pending ops are kept and resent).
          this.haveState = false;
          this.t.setTimeout(() => this.reconnect(), 0);
          return;
        }
        this.gateway = String(m.gateway ?? '');
        this.clientId = String(m.client ?? '');
        this.role = m.role === 'viewer' ? 'viewer' : 'editor';
        if (typeof m.view === 'string') this.viewId = m.view;
        this.backoff.reset();
        this.awaitSeq = typeof m.seq === 'number' ? m.seq : 0;
        this.needSnapshot = !m.resumed;
        this.setState('connected');
        if (this.syncTimer !== null) this.t.clearTimeout(this.syncTimer);
        // if the replay/snapshot never completes as expected, resend anyway (op ids make it safe)
        this.syncTimer = this.t.setTimeout(() => {
          this.syncTimer = null;
          this.markSynced();
        }, this.o.syncTimeoutMs ?? 4000);
        this.checkSynced();
        break;
      }
      case 'snapshot': {
        const change = this.board.loadSnapshot(typeof m.seq === 'number' ? m.seq : 0, Array.isArray(m.strokes) ? m.strokes : []);
        this.haveState = true;
        this.needSnapshot = false;
        for (const [op, v] of this.ackedUnseen) if (v.seq <= this.board.seq) this.ackedUnseen.delete(op);
        // an add op whose element is already on the board has been applied
        for (const op of this.outbox.pending()) {
          const id = op.t === 'stroke' ? op.stroke.id : op.t === 'shape' ? op.shape.id : op.t === 'text' ? op.text.id : null;
          if (id !== null && this.board.byId.has(id)) this.outbox.ack(op.op);
        }
        this.emit('board', change);
        this.emit('pending');
        this.emit('status');
        this.checkSynced();
        break;
      }
      case 'ev':
        this.onEv(m);
        break;
      case 'ack': {
        const op = this.outbox.ack(m.op);
        if (op && typeof m.seq === 'number' && m.seq > this.board.seq) this.ackedUnseen.set(m.op, { op, seq: m.seq });
        if (op) {
          this.emit('pending');
          this.emit('status');
        }
        break;
      }
      case 'error': {
        const op = m.op ? this.outbox.get(m.op) : undefined;
        if (op) {
          if (m.code === 'unavailable' || m.code === 'rate_limited') {
            // not accepted: keep it and send it again a bit later
            this.sentHere.delete(op.op);
            this.scheduleFlush(m.code === 'rate_limited' ? 1000 : 2000);
          } else {
            this.outbox.ack(op.op);
            this.emit('rejected', op, m.code, m.msg);
            this.emit('pending');
            this.emit('status');
          }
        } else if (m.code === 'rate_limited' || m.code === 'unavailable') {
          // no op id given: resend whatever is still unacked later
          this.sentHere.clear();
          this.scheduleFlush(1500);
        } else {
          this.emit('error', m.code, m.msg);
        }
        break;
      }
      case 'pong':
        this.lastPong = this.now();
        if (typeof m.ts === 'number') this.rtt = Math.max(0, this.now() - m.ts);
        this.emit('status');
        break;
      case 'draft':
        if (m.stroke || m.shape || m.text || m.update) this.emit('draft', m);
        break;
      case 'cursor':
        this.emit('cursor', m);
        break;
      case 'viewport':
        if (Number.isFinite(m.x) && Number.isFinite(m.y) && m.scale > 0) this.emit('viewport', m);
        break;
      case 'presence':
        if (Array.isArray(m.clients)) this.emit('presence', m.clients);
        break;
    }
  }

  private lastResync = -Infinity;

  private onEv(ev: EvMsg): void {
    // A restore can name strokes hidden before we joined (a snapshot holds
    // only visible strokes): only a fresh snapshot has their data and place.
    const unknown =
      ev.kind === 'restore' && Array.isArray(ev.ids) && ev.ids.some((id) => !this.board.has(id));
    const change = this.board.apply(ev);
    if (!change) return; // duplicate
    if (unknown && this.now() - this.lastResync > 10000) {
      this.lastResync = this.now();
      this.haveState = false;
      this.t.setTimeout(() => this.reconnect(), 0);
    }
    let pendingChanged = false;
    if (ev.op) {
      if (this.outbox.ack(ev.op)) pendingChanged = true;
      if (this.ackedUnseen.delete(ev.op)) pendingChanged = true;
    }
    for (const [op, v] of this.ackedUnseen) {
      if (v.seq <= this.board.seq) {
        this.ackedUnseen.delete(op);
        pendingChanged = true;
      }
    }
    this.emit('board', change);
    if (pendingChanged) this.emit('pending');
    this.emit('status');
    this.checkSynced();
  }

  private checkSynced(): void {
    if (this.synced || this.state !== 'connected') return;
    if (!this.needSnapshot && this.board.seq >= this.awaitSeq) this.markSynced();
  }

  private markSynced(): void {
    if (this.synced || !this.isOpen) return;
    if (this.syncTimer !== null) this.t.clearTimeout(this.syncTimer);
    this.syncTimer = null;
    this.synced = true;
    this.emit('status');
    this.ping(); // first RTT sample once the join (replay/snapshot) is done
    this.flush();
  }

  private scheduleFlush(ms: number): void {
    if (this.flushTimer !== null) return;
    this.flushTimer = this.t.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, ms);
  }

  /** Send unacked ops not yet sent on this connection, paced to stay under the server's rate
   *  limit. The ops of one flush go out as JSON array frames (the protocol lets a client batch)
   *  of at most FRAME_CHARS each, in outbox order: one frame instead of one per op when an
   *  outbox drawn offline is resent. */
  private flush(): void {
    if (!this.isSynced) return;
    const batch = this.o.flushBatch ?? 60;
    let n = 0;
    let parts: string[] = [];
    let ids: string[] = [];
    let chars = 0;
    const send = (): boolean => {
      if (!parts.length) return true;
      const frame = parts.length === 1 ? parts[0] : '[' + parts.join(',') + ']';
      if (!this.sendText(frame)) return false;
      for (const id of ids) this.sentHere.add(id);
      parts = [];
      ids = [];
      chars = 0;
      return true;
    };
    for (const op of this.outbox.pending()) {
      if (this.sentHere.has(op.op)) continue;
      if (n >= batch) {
        if (send()) this.scheduleFlush(this.o.flushTickMs ?? 500);
        return;
      }
      const json = JSON.stringify(op);
      if (parts.length && chars + json.length + 1 > FRAME_CHARS && !send()) return;
      parts.push(json);
      ids.push(op.op);
      chars += json.length + 1;
      n++;
    }
    send();
  }
}
