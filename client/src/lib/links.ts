// Share links: the edit link (the board id is the capability to draw) and
// the view-only link (the view id from an editor's welcome).

export interface ShareLinks {
  edit: string | null;
  view: string | null;
}

export function shareLinks(origin: string, routeId: string, role: 'editor' | 'viewer', viewId: string): ShareLinks {
  if (role === 'viewer') return { edit: null, view: `${origin}/b/${routeId}` };
  return { edit: `${origin}/b/${routeId}`, view: viewId ? `${origin}/b/${viewId}` : null };
}
