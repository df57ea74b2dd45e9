// Follow the presenter (docs/protocol.md §9 `viewport`), as a React hook over a
// BoardView and its SyncClient: sends our viewport while we pan or zoom
// (polled, throttled), follows a chosen user's view live, stops when the
// user moves the view, and "follow me" (lead) for presenters.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BoardView } from '../canvas/view';
import { FollowState, ViewportSender, type Transform } from '../lib/follow';
import type { SyncClient } from '../lib/sync';

const POLL_MS = 50;

export interface FollowApi {
  following: string | null;
  leading: boolean;
  follow(id: string): void;
  stop(): void;
  setLeading(on: boolean): void;
}

function apply(view: BoardView, st: FollowState, t: Transform): void {
  view.setView(t.ox, t.oy, t.scale);
  st.noteApplied({ ox: view.ox, oy: view.oy, scale: view.scale });
}

export function useFollow(view: BoardView | undefined, sync: SyncClient | undefined): FollowApi {
  const [following, setFollowing] = useState<string | null>(null);
  const [leading, setLeadingState] = useState(false);
  const stateRef = useRef<FollowState | null>(null);
  const senderRef = useRef(new ViewportSender());

  useEffect(() => {
    if (!view || !sync) return;
    const st = new FollowState(() => sync.clientId);
    stateRef.current = st;
    const publish = () => {
      setFollowing(st.following);
      setLeadingState(st.leading);
    };
    const off = sync.on({
      viewport: (m) => {
        const t = st.onRemote(m);
        if (t) apply(view, st, t);
        publish();
      },
      presence: (clients) => {
        if (st.gone(new Set(clients.map((c) => c.id)))) publish();
      },
    });
    const timer = window.setInterval(() => {
      const t = { ox: view.ox, oy: view.oy, scale: view.scale };
      if (st.checkMoved(t)) publish();
      if (st.following) return; // a follower does not broadcast the leader's view back
      const msg = senderRef.current.next(t, performance.now(), st.leading);
      if (msg) sync.sendEphemeral({ t: 'viewport', ...msg });
    }, POLL_MS);
    return () => {
      off();
      clearInterval(timer);
      stateRef.current = null;
    };
  }, [view, sync]);

  const follow = useCallback(
    (id: string) => {
      const st = stateRef.current;
      if (!st || !view) return;
      const t = st.follow(id);
      if (t) apply(view, st, t);
      setFollowing(st.following);
      setLeadingState(st.leading);
    },
    [view],
  );
  const stop = useCallback(() => {
    stateRef.current?.stop();
    setFollowing(null);
  }, []);
  const setLeading = useCallback(
    (on: boolean) => {
      const st = stateRef.current;
      if (!st || !view || !sync) return;
      st.leading = on;
      if (on) st.stop();
      setFollowing(st.following);
      setLeadingState(on);
      const msg = senderRef.current.next({ ox: view.ox, oy: view.oy, scale: view.scale }, performance.now(), on, true);
      if (msg) sync.sendEphemeral({ t: 'viewport', ...msg });
    },
    [view, sync],
  );
  return { following, leading, follow, stop, setLeading };
}
