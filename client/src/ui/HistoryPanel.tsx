// Board history (docs/protocol.md §9 `GET /api/boards/{id}?at=SEQ`): a timeline that
// shows the board as it was at any seq, read-only, on its own canvas over
// the live board (which keeps updating underneath), and "Restore this
// version", which appends the erase/restore/update ops that bring the board back
// to that state (undoable; the log is never rewritten).
import { useEffect, useRef, useState } from 'react';
import type { BoardView } from '../canvas/view';
import { drawElement, elementPath } from '../canvas/geometry';
import { newOpId } from '../lib/ids';
import { chunks, restorePlan } from '../lib/restore';
import type { SyncClient } from '../lib/sync';
import type { Element } from '../lib/types';

interface Version {
  seq: number;
  strokes: Element[];
}

function draw(canvas: HTMLCanvasElement, view: BoardView, v: Version | null): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#f7f7f5';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!v) return;
  ctx.setTransform(view.scale * dpr, 0, 0, view.scale * dpr, view.ox * dpr, view.oy * dpr);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const el of v.strokes) drawElement(ctx, el, elementPath(el));
}

export function HistoryPanel({ routeId, sync, view, canRestore, say, onClose }: { routeId: string; sync: SyncClient; view: BoardView; canRestore: boolean; say: (m: string) => void; onClose: () => void }) {
  const max = sync.board.seq;
  const [at, setAt] = useState(max);
  const [version, setVersion] = useState<Version | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const canvasRef = useRef<HTMLCanvasElement>(null);

  // fetch the version (debounced while the slider moves; the newest answer wins)
  useEffect(() => {
    let live = true;
    setLoading(true);
    const h = window.setTimeout(async () => {
      try {
        const r = await fetch(`/api/boards/${routeId}?at=${at}`, { cache: 'no-store' });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const j = await r.json();
        if (!live) return;
        setVersion({ seq: at, strokes: Array.isArray(j.strokes) ? j.strokes : [] });
        setError('');
      } catch (e) {
        if (live) setError(`Could not load version #${at} (${(e as Error).message}).`);
      } finally {
        if (live) setLoading(false);
      }
    }, 120);
    return () => {
      live = false;
      clearTimeout(h);
    };
  }, [routeId, at]);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    draw(c, view, version);
    const onResize = () => draw(c, view, version);
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, [view, version]);

  const restore = () => {
    if (!version) return;
    const plan = restorePlan(view.visibleIds(), version.strokes, (id) => view.item(id)?.el ?? sync.board.byId.get(id)?.el ?? null);
    if (!plan.erase.length && !plan.restore.length && !plan.update.length) {
      say('The board already looks like this version.');
      return;
    }
    for (const ids of chunks(plan.erase)) sync.submit({ t: 'erase', op: newOpId(), ids });
    for (const ids of chunks(plan.restore)) sync.submit({ t: 'restore', op: newOpId(), ids });
    for (const c of plan.update) sync.submit({ t: 'update', op: newOpId(), id: c.id, set: c.after });
    // undo: show again what this hid, hide again what it showed
    if (plan.erase.length) view.history.push({ kind: 'erase', ids: plan.erase });
    if (plan.restore.length) view.history.push({ kind: 'stroke', ids: plan.restore });
    if (plan.update.length) view.history.push({ kind: 'update', changes: plan.update });
    view.onUi();
    say(`Restored version #${version.seq} (${plan.erase.length} hidden, ${plan.restore.length} shown, ${plan.update.length} changed back). Ctrl+Z to undo.`);
    onClose();
  };

  return (
    <>
      <canvas ref={canvasRef} className="history-canvas" data-history-canvas data-history-seq={version?.seq ?? ''} data-history-strokes={version?.strokes.length ?? ''} />
      <div className="history panel" data-history-panel data-loading={loading ? '1' : '0'}>
        <div className="history-head">
          <strong>History</strong>
          <span className="muted">
            {' '}
            version #{at} of #{max} · read-only
          </span>
          <button className="icon-btn" aria-label="Close history" data-history-close onClick={onClose}>
            ×
          </button>
        </div>
        <input type="range" data-history min={0} max={max} step={1} value={Math.min(at, max)} aria-label="Board version (seq)" onChange={(e) => setAt(Number(e.target.value))} />
        {error && <div className="history-error">{error}</div>}
        {canRestore && (
          <button className="btn small" data-restore disabled={!version || loading || version.seq >= max} onClick={restore}>
            Restore this version
          </button>
        )}
      </div>
    </>
  );
}
