import { useEffect, useState } from 'react';
import type { SyncClient } from '../lib/sync';

function pageProtocol(): string {
  try {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    return nav?.nextHopProtocol || '';
  } catch {
    return '';
  }
}

export function StatusBar({ sync, following = null }: { sync: SyncClient; following?: string | null }) {
  const [, setNow] = useState(0);
  const [protocol] = useState(pageProtocol);
  const state = sync.state;
  // tick for the reconnect countdown
  useEffect(() => {
    if (state === 'connected') return;
    const h = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(h);
  }, [state]);

  const secs = Math.max(0, Math.ceil((sync.nextRetryAt - Date.now()) / 1000));
  let label: string;
  if (state === 'connected') label = 'Connected';
  else if (state === 'connecting') label = 'Connecting…';
  else if (state === 'offline') label = 'Offline';
  else label = secs > 0 ? `Reconnecting in ${secs} s` : 'Reconnecting…';
  const unacked = sync.unacked;
  return (
    <div
      id="status"
      className={`status panel state-${state}`}
      data-state={state}
      data-gateway={sync.gateway}
      data-protocol={protocol}
      data-unacked={unacked}
      data-seq={sync.board.seq}
      data-rtt={sync.rtt ?? ''}
      data-synced={sync.isSynced ? '1' : '0'}
      data-role={sync.role}
      data-following={following ?? undefined}
      role="status"
      aria-live="polite"
    >
      <span className="dot" />
      <span className="state-label">{label}</span>
      {sync.role === 'viewer' && (
        <span className="chip" title="Opened with a view-only link: you can watch, not draw">
          view only
        </span>
      )}
      {following && (
        <span className="chip" title="Your view follows this person's view; pan to stop">
          following
        </span>
      )}
      {sync.gateway && (
        <span className="chip" title="Gateway serving this tab">
          {sync.gateway}
        </span>
      )}
      {protocol && (
        <span className="chip" title="Protocol of this page (HTTP/3 = h3)">
          {protocol}
        </span>
      )}
      {sync.rtt !== null && state === 'connected' && (
        <span className="chip" title="Round trip time (ping/pong)">
          {sync.rtt} ms
        </span>
      )}
      <span className={`chip ${unacked ? 'warn' : ''}`} title="Changes not yet confirmed by the server">
        {unacked ? `${unacked} unsaved` : 'saved'}
      </span>
      <span className="chip muted" title="Last applied sequence number">
        #{sync.board.seq}
      </span>
    </div>
  );
}
