// Wire types (docs/protocol.md §3, wb.v1).

export interface Stroke {
  id: string;
  color: string;
  width: number;
  /** flat [x0, y0, x1, y1, ...] in world coordinates */
  points: number[];
  by?: string;
}

export type DurableOp =
  | { t: 'stroke'; op: string; stroke: Stroke }
  | { t: 'erase'; op: string; ids: string[] }
  | { t: 'restore'; op: string; ids: string[] }
  | { t: 'clear'; op: string };

export type OpKind = 'stroke' | 'erase' | 'restore' | 'clear';

export interface EvMsg {
  t: 'ev';
  seq: number;
  op?: string;
  from?: string;
  kind: OpKind;
  stroke?: Stroke;
  ids?: string[];
}

export interface WelcomeMsg {
  t: 'welcome';
  board: string;
  client: string;
  gateway: string;
  seq: number;
  resumed: boolean;
  /** docs/protocol.md §9: "editor" or "viewer" (absent from old servers: editor) */
  role?: Role;
  /** an editor's welcome: the board's view-only id */
  view?: string;
}

export type Role = 'editor' | 'viewer';

/** docs/protocol.md §9: a user's view, the world point at its top-left and the zoom */
export interface ViewportMsg {
  t: 'viewport';
  x: number;
  y: number;
  scale: number;
  /** "follow me": the sender asks everyone to follow its view */
  lead?: boolean;
  from?: string;
  name?: string;
}

export interface SnapshotMsg {
  t: 'snapshot';
  seq: number;
  strokes: Stroke[];
}

export interface PresenceClient {
  id: string;
  name: string;
  color: string;
  role?: Role;
}

export type ServerMsg =
  | WelcomeMsg
  | SnapshotMsg
  | EvMsg
  | { t: 'ack'; op: string; seq: number }
  | { t: 'draft'; stroke: Stroke; from?: string; name?: string }
  | { t: 'cursor'; x: number; y: number; from?: string; name?: string }
  | ViewportMsg
  | { t: 'presence'; clients: PresenceClient[] }
  | { t: 'pong'; ts: number }
  | { t: 'error'; code: string; msg?: string; op?: string };

export const BOARD_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_POINTS = 10000; // points per stroke (20000 numbers)
export const COORD_LIMIT = 1e7;
