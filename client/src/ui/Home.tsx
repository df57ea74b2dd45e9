import { useEffect, useState } from 'react';
import { newBoardId } from '../lib/ids';
import { forgetRecent, recentBoards, thumb, timeAgo } from '../lib/prefs';
import { BOARD_ID_RE } from '../lib/types';
import { navigate } from './App';

export function Home({ badLink }: { badLink: boolean }) {
  const [recent, setRecent] = useState(recentBoards);
  const [link, setLink] = useState('');
  const [err, setErr] = useState(badLink ? 'That link is not a valid board.' : '');
  // re-read after mount: the board page just left saves its preview while unmounting
  useEffect(() => setRecent(recentBoards()), []);

  const open = (e: React.FormEvent) => {
    e.preventDefault();
    const v = link.trim();
    const m = /\/b\/([A-Za-z0-9_-]{1,64})\/?(?:[?#].*)?$/.exec(v);
    const id = m ? m[1] : v;
    if (!BOARD_ID_RE.test(id)) {
      setErr('Paste a board link or id (letters, digits, - and _).');
      return;
    }
    navigate('/b/' + id);
  };

  return (
    <div className="home">
      <div className="home-card">
        <div className="brand">
          <svg viewBox="0 0 32 32" width="40" height="40" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="#4f46e5" />
            <path d="M8 21c3-6 6-9 8-6s3 4 8-4" stroke="#fff" strokeWidth="3" fill="none" strokeLinecap="round" />
          </svg>
          <div>
            <h1>Whiteboard</h1>
            <p className="muted">Draw together, live. Anyone with the link can join.</p>
          </div>
        </div>
        <button id="new-board" className="btn primary big" onClick={() => navigate('/b/' + newBoardId())}>
          + New board
        </button>
        <form className="join" onSubmit={open}>
          <input
            aria-label="Board link or id"
            placeholder="Paste a board link or id"
            value={link}
            onChange={(e) => {
              setLink(e.target.value);
              setErr('');
            }}
          />
          <button className="btn" type="submit">
            Open
          </button>
        </form>
        {err && <p className="error">{err}</p>}
        {recent.length > 0 && (
          <div className="recent">
            <h2>Recent boards</h2>
            <ul>
              {recent.map((r) => (
                <li key={r.id}>
                  <a
                    href={'/b/' + r.id}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate('/b/' + r.id);
                    }}
                  >
                    <span className="thumb">{thumb(r.id) ? <img src={thumb(r.id)!} alt="" /> : null}</span>
                    <span className="meta">
                      <span className="mono">{r.id}</span>
                      <span className="muted">{timeAgo(r.at)}</span>
                    </span>
                  </a>
                  <button
                    className="icon-btn"
                    title="Remove from this list"
                    aria-label="Remove from recent boards"
                    onClick={() => {
                      forgetRecent(r.id);
                      setRecent(recentBoards());
                    }}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  );
}
