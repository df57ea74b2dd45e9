// useBoardEngine: the engine of one board page for as long as the page shows
// that board: the SyncClient (connection, outbox, board state) and the
// BoardView (canvas), this tab's heartbeat and adoption of closed tabs'
// unsent ops, the home-page thumbnail, reconnects on online/visibility, and
// the read-only test handle window.__wb. Returns null until started.

import { useEffect, useState, type RefObject } from 'react';
import { BoardView } from '../canvas/view';
import { saveThumb, touchRecent } from '../lib/prefs';
import { SyncClient, type SocketLike } from '../lib/sync';
import { adoptOrphans, heartbeat, HEARTBEAT_MS, outboxKey, tabId } from '../lib/tabs';
import type { PresenceClient } from '../lib/types';

export interface Engine {
  sync: SyncClient;
  view: BoardView;
}

declare global {
  interface Window {
    __wb?: unknown;
  }
}

function wsUrl(board: string, name: string, since: number | null): string {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  let q = `name=${encodeURIComponent(name)}`;
  if (since !== null) q += `&since=${since}`;
  return `${proto}://${location.host}/ws/${board}?${q}`;
}

export interface EngineEvents {
  /** something shown in the toolbar or status bar changed (called often: debounce) */
  ui: () => void;
  presence: (clients: PresenceClient[]) => void;
  /** the server refused one of my ops */
  rejected: (code: string) => void;
}

export function useBoardEngine(
  id: string,
  canvasRef: RefObject<HTMLCanvasElement | null>,
  nameRef: RefObject<string>,
  events: EngineEvents,
): Engine | null {
  const [eng, setEng] = useState<Engine | null>(null);
  useEffect(() => {
    touchRecent(id);
    document.title = `Whiteboard · ${id.slice(0, 8)}`;
    let storage: Storage | null = null;
    let session: Storage | null = null;
    try {
      storage = window.localStorage;
      session = window.sessionStorage;
    } catch {
      storage = null;
    }
    const tab = tabId(session);
    const sync = new SyncClient({
      board: id,
      outboxKey: outboxKey(id, tab),
      name: nameRef.current,
      url: (since) => wsUrl(id, nameRef.current, since),
      createSocket: (u) => new WebSocket(u, 'wb.v1') as unknown as SocketLike,
      storage,
      isOnline: () => navigator.onLine !== false,
    });
    const view = new BoardView(canvasRef.current!, sync);
    let pendingUi = 0;
    const schedule = () => {
      if (!pendingUi) pendingUi = window.setTimeout(() => ((pendingUi = 0), events.ui()), 40);
    };
    view.onUi = schedule;
    const off = sync.on({
      status: schedule,
      presence: (c) => events.presence(c),
      rejected: (_op, code) => events.rejected(code),
    });
    const online = () => sync.reconnectNow();
    window.addEventListener('online', online);
    const offline = () => schedule();
    window.addEventListener('offline', offline);
    // this tab's heartbeat; adopt what closed tabs left unsent on this board
    const beat = () => {
      if (!storage) return;
      heartbeat(storage, tab);
      const orphans = adoptOrphans(storage, id, tab);
      if (orphans.length) sync.adopt(orphans);
    };
    beat();
    const beatTimer = window.setInterval(beat, HEARTBEAT_MS);
    // a small preview for the home page's recent boards (taken when the page
    // is hidden or left, never while drawing: it costs a full render)
    let thumbSeq = -1;
    const snap = () => {
      const key = sync.board.seq * 1000 + sync.unacked;
      if (key === thumbSeq) return;
      thumbSeq = key;
      saveThumb(id, view.thumbnail());
    };
    const onHide = () => {
      if (document.visibilityState === 'hidden') snap();
      else sync.reconnectNow(); // back to the tab: do not wait for the backoff
    };
    window.addEventListener('pagehide', snap);
    document.addEventListener('visibilitychange', onHide);
    sync.start();
    setEng({ sync, view });

    const handle = Object.freeze({
      board: id,
      get seq() {
        return sync.board.seq;
      },
      /** alias of seq: the highest applied seq */
      get lastSeq() {
        return sync.board.seq;
      },
      /** visible element ids in drawing order as shown (committed + my pending ops) */
      get visibleIds() {
        return view.visibleIds();
      },
      /** visible element ids of the committed (server-ordered) board state */
      get committedIds() {
        return sync.board.visibleIds();
      },
      /** the committed visible elements (strokes, shapes, text) in drawing order, with their current values */
      get elements() {
        return sync.board.order.filter((e) => !e.hidden).map((e) => e.el);
      },
      /** ids of the elements the select tool has selected */
      get selection() {
        return view.selection();
      },
      get strokeCount() {
        return sync.board.order.length;
      },
      get state() {
        return sync.state;
      },
      get synced() {
        return sync.isSynced;
      },
      get gateway() {
        return sync.gateway;
      },
      get client() {
        return sync.clientId;
      },
      /** docs/protocol.md §9: "editor" or "viewer", and (editors) the view id */
      get role() {
        return sync.role;
      },
      get viewId() {
        return sync.viewId;
      },
      get unacked() {
        return sync.unacked;
      },
      /** ops not yet in the board state: unacked, or acked with their ev still to come */
      get pending() {
        return sync.pendingOps().length;
      },
      get rtt() {
        return sync.rtt;
      },
      get view() {
        return { scale: view.scale, ox: view.ox, oy: view.oy };
      },
      get tool() {
        return view.tool;
      },
      frameTimes: () => view.frameTimes.slice(),
    });
    Object.defineProperty(window, '__wb', { value: handle, configurable: true, writable: false });

    return () => {
      off();
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      clearTimeout(pendingUi);
      clearInterval(beatTimer);
      window.removeEventListener('pagehide', snap);
      document.removeEventListener('visibilitychange', onHide);
      snap();
      sync.stop();
      view.destroy();
      setEng(null);
    };
  }, [id]); // one engine per board id; events are read when the engine starts
  return eng;
}
