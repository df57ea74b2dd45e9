// Small localStorage helpers: recent boards and the user's display name.

const RECENT = 'wb.recent';
const NAME = 'wb.name';

export interface Recent {
  id: string;
  title?: string;
  at: number;
}

function ls(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function recentBoards(): Recent[] {
  try {
    const v = JSON.parse(ls()?.getItem(RECENT) ?? '[]');
    return Array.isArray(v) ? v.filter((r) => r && typeof r.id === 'string') : [];
  } catch {
    return [];
  }
}

export function touchRecent(id: string): void {
  const list = recentBoards().filter((r) => r.id !== id);
  list.unshift({ id, at: Date.now() });
  try {
    ls()?.setItem(RECENT, JSON.stringify(list.slice(0, 12)));
    for (const r of list.slice(12)) ls()?.removeItem(`wb.thumb.${r.id}`);
  } catch {
    /* ignore */
  }
}

export function saveThumb(id: string, dataUrl: string | null): void {
  try {
    if (dataUrl && dataUrl.length < 60000) ls()?.setItem(`wb.thumb.${id}`, dataUrl);
    else ls()?.removeItem(`wb.thumb.${id}`);
  } catch {
    /* quota: no preview */
  }
}

export function thumb(id: string): string | null {
  try {
    return ls()?.getItem(`wb.thumb.${id}`) ?? null;
  } catch {
    return null;
  }
}

export function forgetRecent(id: string): void {
  try {
    ls()?.setItem(RECENT, JSON.stringify(recentBoards().filter((r) => r.id !== id)));
    ls()?.removeItem(`wb.thumb.${id}`);
    const s = ls();
    if (s) for (let i = s.length - 1; i >= 0; i--) if (s.key(i)?.startsWith(`wb.outbox.${id}`)) s.removeItem(s.key(i)!);
  } catch {
    /* ignore */
  }
}

const ADJ = ['Swift', 'Calm', 'Bright', 'Brave', 'Clever', 'Gentle', 'Lucky', 'Quiet', 'Sunny', 'Witty', 'Bold', 'Keen'];
const ANIMAL = ['Otter', 'Falcon', 'Panda', 'Fox', 'Heron', 'Lynx', 'Koala', 'Badger', 'Robin', 'Seal', 'Tiger', 'Wren'];

export function userName(): string {
  const s = ls();
  let n = s?.getItem(NAME) ?? '';
  if (!n) {
    const r = new Uint8Array(2);
    crypto.getRandomValues(r);
    n = `${ADJ[r[0] % ADJ.length]} ${ANIMAL[r[1] % ANIMAL.length]}`;
    try {
      s?.setItem(NAME, n);
    } catch {
      /* ignore */
    }
  }
  return n;
}

export function setUserName(n: string): void {
  try {
    ls()?.setItem(NAME, n);
  } catch {
    /* ignore */
  }
}

export function timeAgo(t: number): string {
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
