// Follow a presenter (docs/protocol.md §9 `viewport`): the pure state of
// following someone's view, leading ("follow me"), and when to send our own
// viewport. No DOM, no timers: the caller passes the time and the view.

/** The world point at the view's top-left and the zoom (the wire form). */
export interface Viewport {
  x: number;
  y: number;
  scale: number;
}

/** The canvas transform: css px per world unit and the world origin in css px. */
export interface Transform {
  ox: number;
  oy: number;
  scale: number;
}

export function viewportOf(t: Transform): Viewport {
  return { x: -t.ox / t.scale, y: -t.oy / t.scale, scale: t.scale };
}

export function transformFor(v: Viewport): Transform {
  return { ox: -v.x * v.scale, oy: -v.y * v.scale, scale: v.scale };
}

function same(a: Transform, b: Transform): boolean {
  const eps = 0.5; // css px; the scale compared relatively
  return Math.abs(a.ox - b.ox) < eps && Math.abs(a.oy - b.oy) < eps && Math.abs(a.scale - b.scale) < 1e-6 * Math.max(1, b.scale);
}

export interface RemoteViewport extends Viewport {
  from?: string;
  lead?: boolean;
}

export class FollowState {
  /** the client id whose view we follow, or null */
  following: string | null = null;
  /** we asked everyone to follow us */
  leading = false;
  /** leaders we stopped following: their "follow me" does not grab us again */
  private readonly declined = new Set<string>();
  /** the transform we set from the leader's last viewport */
  private applied: Transform | null = null;
  /** latest viewport per client (to jump to at once when following starts) */
  private readonly latest = new Map<string, Viewport>();

  constructor(private readonly me: () => string) {}

  /** Start following id; returns the transform to show now (if known). */
  follow(id: string): Transform | null {
    if (!id || id === this.me()) return null;
    this.following = id;
    this.leading = false;
    this.declined.delete(id);
    const v = this.latest.get(id);
    this.applied = v ? transformFor(v) : null;
    return this.applied;
  }

  /** Stop following (a click, or the user moved the view). */
  stop(): void {
    if (this.following) this.declined.add(this.following);
    this.following = null;
    this.applied = null;
  }

  /** A viewport from someone else; returns the transform to show, or null. */
  onRemote(m: RemoteViewport): Transform | null {
    if (!m.from || m.from === this.me()) return null;
    this.latest.set(m.from, { x: m.x, y: m.y, scale: m.scale });
    if (m.lead && this.following !== m.from && !this.declined.has(m.from) && !this.leading) {
      this.following = m.from;
    }
    if (this.following !== m.from) return null;
    this.applied = transformFor(m);
    return this.applied;
  }

  /** The transform really shown after applying one (the view may clamp the scale). */
  noteApplied(t: Transform): void {
    if (this.following) this.applied = { ...t };
  }

  /** The view is now t: if we follow and t is not what we set, the user moved: stop. */
  checkMoved(t: Transform): boolean {
    if (!this.following || !this.applied) return false;
    if (same(t, this.applied)) return false;
    this.stop();
    return true;
  }

  /** Someone left the board: stop following them. */
  gone(present: Set<string>): boolean {
    for (const id of [...this.latest.keys()]) if (!present.has(id)) this.latest.delete(id);
    if (this.following && !present.has(this.following)) {
      this.following = null;
      this.applied = null;
      return true;
    }
    return false;
  }
}

/** When to send our own viewport: on change, at most every minMs; while
 * leading, also every keepaliveMs so that newcomers pick it up. */
export class ViewportSender {
  private last: Transform | null = null;
  private lastAt = -Infinity;

  constructor(
    private readonly minMs = 100,
    private readonly keepaliveMs = 2000,
  ) {}

  /** Returns the message to send now, or null. */
  next(t: Transform, now: number, leading: boolean, force = false): (Viewport & { lead?: boolean }) | null {
    const changed = !this.last || !same(t, this.last);
    if (!force && !changed && !(leading && now - this.lastAt >= this.keepaliveMs)) return null;
    if (!force && now - this.lastAt < this.minMs) return null;
    this.last = { ...t };
    this.lastAt = now;
    const v = viewportOf(t);
    const r = (n: number) => Math.round(n * 100) / 100;
    const msg: Viewport & { lead?: boolean } = { x: r(v.x), y: r(v.y), scale: Math.round(v.scale * 1e4) / 1e4 };
    if (leading) msg.lead = true;
    return msg;
  }
}
