import { useEffect, useState } from 'react';
import { BOARD_ID_RE } from '../lib/types';
import { Board } from './Board';
import { Home } from './Home';

function route(): { board: string | null; bad: boolean } {
  const m = /^\/b\/([^/]+)\/?$/.exec(location.pathname);
  if (!m) return { board: null, bad: false };
  let id = m[1];
  try {
    id = decodeURIComponent(id);
  } catch {
    return { board: null, bad: true };
  }
  return BOARD_ID_RE.test(id) ? { board: id, bad: false } : { board: null, bad: true };
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function App() {
  const [r, setR] = useState(route);
  useEffect(() => {
    const f = () => setR(route());
    window.addEventListener('popstate', f);
    return () => window.removeEventListener('popstate', f);
  }, []);
  if (r.board) return <Board key={r.board} id={r.board} />;
  return <Home badLink={r.bad} />;
}
