import { useEffect, useReducer, useRef, useState } from 'react';
import { colorFor, type Tool } from '../canvas/view';
import { setUserName, userName } from '../lib/prefs';
import type { PresenceClient } from '../lib/types';
import { navigate } from './App';
import { HistoryPanel } from './HistoryPanel';
import { IconArrow, IconDownload, IconEllipse, IconEraser, IconFill, IconHand, IconHome, IconLine, IconPen, IconRect, IconRedo, IconSelect, IconText, IconTrash, IconUndo } from './icons';
import { ShareMenu } from './ShareMenu';
import { StatusBar } from './StatusBar';
import { useBoardEngine } from './useBoardEngine';
import { useFollow } from './useFollow';

const COLORS = ['#1e1e1e', '#e03131', '#f08c00', '#2f9e44', '#1971c2', '#7048e8', '#c2255c', '#868e96'];
const WIDTHS = [2, 4, 8, 16];

/** The drawing tools in toolbar order, with their keyboard shortcut. */
const TOOLS: { tool: Tool; key: string; title: string; icon: () => React.JSX.Element }[] = [
  { tool: 'select', key: 'v', title: 'Select (V): click or drag a box; drag to move, corners to resize, Delete, Ctrl+D duplicates', icon: IconSelect },
  { tool: 'pen', key: 'p', title: 'Pen (P)', icon: IconPen },
  { tool: 'rect', key: 'r', title: 'Rectangle (R)', icon: IconRect },
  { tool: 'ellipse', key: 'o', title: 'Ellipse (O)', icon: IconEllipse },
  { tool: 'line', key: 'l', title: 'Line (L)', icon: IconLine },
  { tool: 'arrow', key: 'a', title: 'Arrow (A)', icon: IconArrow },
  { tool: 'text', key: 't', title: 'Text (T): click, type, Enter or Escape to finish (Shift+Enter: new line)', icon: IconText },
  { tool: 'eraser', key: 'e', title: 'Eraser (E)', icon: IconEraser },
  { tool: 'hand', key: 'h', title: 'Pan (H, or hold Space)', icon: IconHand },
];

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

export function Board({ id }: { id: string }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const nameRef = useRef(userName());
  const [, bump] = useReducer((x: number) => x + 1, 0);
  const [presence, setPresence] = useState<PresenceClient[]>([]);
  const [toast, setToast] = useState<string>('');
  const [confirmClear, setConfirmClear] = useState(false);
  const [editingName, setEditingName] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const toastTimer = useRef(0);

  const say = (msg: string) => {
    setToast(msg);
    clearTimeout(toastTimer.current);
    toastTimer.current = window.setTimeout(() => setToast(''), 2600);
  };

  const eng = useBoardEngine(id, canvasRef, nameRef, {
    ui: bump,
    presence: setPresence,
    rejected: (code) => say(`The server refused a change (${code}).`),
  });

  const role = eng?.sync.role ?? 'editor';
  const viewer = role === 'viewer';
  const fol = useFollow(eng?.view, eng?.sync);
  // a viewer's page (docs/protocol.md §9): no drawing tools, the hand tool only
  useEffect(() => {
    if (!eng || !viewer) return;
    eng.view.tool = 'hand';
    eng.view.requestRender();
    bump();
  }, [eng, viewer]);

  // keyboard shortcuts
  useEffect(() => {
    if (!eng) return;
    const { view } = eng;
    const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
    const down = (e: KeyboardEvent) => {
      if (typing(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      const toolKey = TOOLS.find((t) => t.key === k && !mod && !e.altKey);
      if (eng.sync.role === 'viewer' && (mod || (toolKey && toolKey.tool !== 'hand') || e.key === 'Delete' || e.key === 'Backspace')) return;
      if (mod && k === 'd') {
        e.preventDefault();
        if (view.tool === 'select') view.duplicateSelected();
      } else if (mod && k === 'a' && view.tool === 'select') {
        e.preventDefault();
        view.selectAll();
      } else if ((e.key === 'Delete' || e.key === 'Backspace') && view.tool === 'select') {
        e.preventDefault();
        view.deleteSelected();
      } else if (mod && k === 'z') {
        e.preventDefault();
        if (e.shiftKey) view.redo();
        else view.undo();
      } else if (mod && k === 'y') {
        e.preventDefault();
        view.redo();
      } else if (mod || e.altKey) {
        return;
      } else if (toolKey) setTool(toolKey.tool);
      else if (e.key === '+' || e.key === '=') view.zoomBy(1.25);
      else if (e.key === '-' || e.key === '_') view.zoomBy(0.8);
      else if (e.key === '0') view.resetView();
      else if (e.key === ' ') {
        e.preventDefault();
        view.setSpace(true);
      } else if (e.key === 'Escape') {
        setConfirmClear(false);
        view.clearSelection();
      }
    };
    const up = (e: KeyboardEvent) => {
      if (e.key === ' ') view.setSpace(false);
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, [eng]);

  const view = eng?.view;
  const sync = eng?.sync;
  const setTool = (t: Tool) => {
    if (!view) return;
    view.tool = t;
    view.toolChanged();
    bump();
  };
  // a colour or width applies to the selection (select tool), or to what is drawn next
  const drawing = (t: Tool) => t !== 'eraser' && t !== 'hand' && t !== 'select';
  const setColor = (c: string) => {
    if (!view) return;
    view.color = c;
    if (!view.restyleSelection({ color: c }) && !drawing(view.tool)) setTool('pen');
    bump();
  };
  const setWidth = (w: number) => {
    if (!view) return;
    view.width = w;
    if (!view.restyleSelection({ width: w }) && !drawing(view.tool)) setTool('pen');
    bump();
  };
  const toggleFill = () => {
    if (!view) return;
    view.fill = !view.fill;
    bump();
  };

  const copyLink = async (url: string, what: string) => {
    say((await copyText(url)) ? `${what} copied.` : url);
  };

  const exportPng = async () => {
    if (!view) return;
    const blob = await view.exportPng();
    if (!blob) {
      say('Nothing to export yet.');
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `whiteboard-${id.slice(0, 8)}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  };

  const exportSvg = () => {
    const svg = view?.exportSvg();
    if (!svg) {
      say('Nothing to export yet.');
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    a.download = `whiteboard-${id.slice(0, 8)}.svg`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  };

  const rename = (n: string) => {
    const v = n.trim().slice(0, 40);
    setEditingName(false);
    if (!v || v === nameRef.current) return;
    nameRef.current = v;
    setUserName(v);
    sync?.reconnect();
  };

  const me = sync?.clientId;
  const tool = view?.tool ?? 'pen';
  return (
    <div className={`board tool-${tool}`}>
      <canvas ref={canvasRef} id="board-canvas" className="board-canvas" data-active-tool={tool} />

      <div className="topbar left panel">
        <button className="icon-btn" title="All boards" aria-label="Home" onClick={() => navigate('/')}>
          <IconHome />
        </button>
        <span className="sep" />
        {!viewer && (
          <>
            <button className="tool" id="undo" title="Undo (Ctrl+Z)" disabled={!view?.history.canUndo} onClick={() => view?.undo()}>
              <IconUndo />
            </button>
            <button className="tool" id="redo" title="Redo (Ctrl+Shift+Z)" disabled={!view?.history.canRedo} onClick={() => view?.redo()}>
              <IconRedo />
            </button>
            <span className="sep" />
            <button className="tool" id="clear" title="Clear board" onClick={() => setConfirmClear(true)}>
              <IconTrash />
            </button>
          </>
        )}
        <button className="tool" id="export" data-export="png" title="Export as PNG" onClick={exportPng}>
          <IconDownload />
        </button>
        <button className="btn small" id="export-svg" data-export="svg" title="Export as SVG (vector)" onClick={exportSvg}>
          SVG
        </button>
        <button className={`btn small ${historyOpen ? 'on' : ''}`} data-history-open title="Board history" onClick={() => setHistoryOpen(!historyOpen)}>
          History
        </button>
        <ShareMenu routeId={id} role={role} viewId={sync?.viewId ?? ''} copy={copyLink} />
        {viewer && (
          <span className="chip view-only" data-view-only title="This is a view-only link">
            View only
          </span>
        )}
      </div>

      {!viewer && (
      <div className="toolbar panel" role="toolbar" aria-label="Drawing tools">
        {TOOLS.map(({ tool: t, title, icon: Icon }) => (
          <button key={t} className={`tool ${tool === t ? 'on' : ''}`} data-tool={t} title={title} aria-pressed={tool === t} onClick={() => setTool(t)}>
            <Icon />
          </button>
        ))}
        <button className={`tool ${view?.fill ? 'on' : ''}`} data-fill={view?.fill ? '1' : '0'} title="Fill new rectangles and ellipses" aria-pressed={!!view?.fill} onClick={toggleFill}>
          <IconFill />
        </button>
        <span className="sep" />
        {COLORS.map((c) => (
          <button
            key={c}
            className={`swatch ${view?.color === c ? 'on' : ''}`}
            style={{ background: c }}
            title={c}
            aria-label={`Colour ${c}`}
            data-color={c}
            onClick={() => setColor(c)}
          />
        ))}
        <label className={`swatch custom ${view && !COLORS.includes(view.color) ? 'on' : ''}`} title="Custom colour" style={view && !COLORS.includes(view.color) ? { background: view.color } : undefined}>
          <input type="color" aria-label="Custom colour" value={view?.color ?? '#1e1e1e'} onChange={(e) => setColor(e.target.value)} />
        </label>
        <span className="sep" />
        {WIDTHS.map((w) => (
          <button key={w} className={`width ${view?.width === w ? 'on' : ''}`} title={`Width ${w}`} aria-label={`Stroke width ${w}`} data-width={w} onClick={() => setWidth(w)}>
            <span style={{ width: Math.min(18, w + 2), height: Math.min(18, w + 2), background: view?.color }} />
          </button>
        ))}
      </div>
      )}

      <div className={`topbar right panel ${sync?.state === 'connected' ? '' : 'stale'}`} id="presence" data-count={presence.length}>
        <ul className="avatars">
          {presence.slice(0, 8).map((p) => (
            <li
              key={p.id}
              title={p.id === me ? `${p.name} (you)` : `${p.name}${p.role === 'viewer' ? ' (viewing)' : ''}: click to follow their view`}
              style={{ background: p.color || colorFor(p.id) }}
              className={`${fol.following === p.id ? 'followed' : ''} ${p.role === 'viewer' ? 'viewer' : ''}`}
              data-client={p.id}
              data-role={p.role ?? 'editor'}
              onClick={() => (p.id === me ? null : fol.following === p.id ? fol.stop() : fol.follow(p.id))}
            >
              {(p.name || '?').slice(0, 1).toUpperCase()}
            </li>
          ))}
          {presence.length > 8 && <li className="more">+{presence.length - 8}</li>}
        </ul>
        {fol.following ? (
          <button className="btn small" data-unfollow onClick={fol.stop} title="Stop following">
            Stop following
          </button>
        ) : (
          <button className={`btn small ${fol.leading ? 'on' : ''}`} data-follow-me={fol.leading ? '1' : '0'} onClick={() => fol.setLeading(!fol.leading)} title="Ask everyone on the board to follow your view">
            {fol.leading ? 'Stop presenting' : 'Follow me'}
          </button>
        )}
        {editingName ? (
          <input
            className="name-input"
            autoFocus
            defaultValue={nameRef.current}
            maxLength={40}
            onBlur={(e) => rename(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') rename((e.target as HTMLInputElement).value);
              if (e.key === 'Escape') setEditingName(false);
            }}
          />
        ) : (
          <button className="name-btn" title="Change your name" onClick={() => setEditingName(true)}>
            {nameRef.current}
          </button>
        )}
        <details className="people">
          <summary>{presence.length} here</summary>
          <ul>
            {presence.map((p) => (
              <li key={p.id} data-client={p.id} data-role={p.role ?? 'editor'} onClick={() => p.id !== me && fol.follow(p.id)}>
                <span className="dot" style={{ background: p.color || colorFor(p.id) }} />
                {p.name || 'guest'}
                {p.role === 'viewer' && <span className="muted"> (viewing)</span>}
                {p.id === me && <span className="muted"> (you)</span>}
                {fol.following === p.id && <span className="muted"> · following</span>}
              </li>
            ))}
          </ul>
        </details>
      </div>

      <div className="zoom panel">
        <button className="icon-btn" title="Zoom out (-)" aria-label="Zoom out" onClick={() => view?.zoomBy(0.8)}>
          −
        </button>
        <button className="zoom-level" title="Reset view (0)" onClick={() => view?.resetView()}>
          {Math.round((view?.scale ?? 1) * 100)}%
        </button>
        <button className="icon-btn" title="Zoom in (+)" aria-label="Zoom in" onClick={() => view?.zoomBy(1.25)}>
          +
        </button>
      </div>

      {sync && <StatusBar sync={sync} following={fol.following} />}

      {historyOpen && sync && view && <HistoryPanel routeId={id} sync={sync} view={view} canRestore={!viewer} say={say} onClose={() => setHistoryOpen(false)} />}

      {confirmClear && (
        <div className="modal-backdrop" onClick={() => setConfirmClear(false)}>
          <div className="modal panel" role="dialog" aria-modal="true" aria-labelledby="clear-title" onClick={(e) => e.stopPropagation()}>
            <h3 id="clear-title">Clear the board?</h3>
            <p className="muted">This hides everything on the board for everyone. You can undo it with Ctrl+Z.</p>
            <div className="modal-actions">
              <button className="btn" onClick={() => setConfirmClear(false)}>
                Cancel
              </button>
              <button
                id="confirm-clear"
                className="btn danger"
                autoFocus
                onClick={() => {
                  const n = view?.clearBoard() ?? 0;
                  setConfirmClear(false);
                  say(n ? `Cleared ${n} element${n === 1 ? '' : 's'}. Ctrl+Z to undo.` : 'The board is already empty.');
                }}
              >
                Clear board
              </button>
            </div>
          </div>
        </div>
      )}

      {toast && (
        <div className="toast" role="status">
          {toast}
        </div>
      )}
    </div>
  );
}
