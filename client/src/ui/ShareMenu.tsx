// The Share menu: the edit link and the view-only link (docs/protocol.md §9), each
// shown as its URL with a copy button.
import { useState } from 'react';
import { shareLinks } from '../lib/links';
import type { Role } from '../lib/types';
import { IconLink } from './icons';

export function ShareMenu({ routeId, role, viewId, copy }: { routeId: string; role: Role; viewId: string; copy: (url: string, what: string) => void }) {
  const [open, setOpen] = useState(false);
  const links = shareLinks(location.origin, routeId, role, viewId);
  const row = (kind: 'edit' | 'view', url: string | null, title: string, note: string) =>
    url && (
      <div className="share-row">
        <div className="share-title">
          {title} <span className="muted">{note}</span>
        </div>
        <div className="share-url">
          <a data-link={kind} href={url} onClick={(e) => e.preventDefault()}>
            {url}
          </a>
          <button className="btn small" data-copy={kind} onClick={() => copy(url, title)}>
            Copy
          </button>
        </div>
      </div>
    );
  return (
    <div className="share">
      <button id="share" className="btn small" onClick={() => setOpen(!open)} aria-expanded={open} title="Share this board">
        <IconLink /> <span className="label">Share</span>
      </button>
      {open && (
        <div className="share-menu panel" role="dialog" aria-label="Share links">
          {row('edit', links.edit, 'Edit link', 'anyone with it can draw')}
          {row('view', links.view, 'View-only link', 'sees the board live, cannot draw')}
        </div>
      )}
    </div>
  );
}
