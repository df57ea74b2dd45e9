// Wire types (docs/protocol.md §3, wb.v1).

export interface Stroke {
  /** strokes carry no type (the wire object predates elements) */
  type?: undefined;
  id: string;
  color: string;
  width: number;
  /** flat [x0, y0, x1, y1, ...] in world coordinates */
  points: number[];
  by?: string;
}

export type ShapeKind = 'rect' | 'ellipse' | 'line' | 'arrow';
export const SHAPE_KINDS: readonly ShapeKind[] = ['rect', 'ellipse', 'line', 'arrow'];

/** rect/ellipse: two opposite corners; line/arrow: start and end (the arrow head at x2,y2) */
export interface Shape {
  type: 'shape';
  id: string;
  kind: ShapeKind;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  color: string;
  width: number;
  /** absent: no fill (only rect/ellipse draw it) */
  fill?: string;
  by?: string;
}

/** (x, y) is the top-left of the first line; size is the font size in world units */
export interface Text {
  type: 'text';
  id: string;
  x: number;
  y: number;
  size: number;
  color: string;
  text: string;
  by?: string;
}

/** Everything on the board, in drawing order. */
export type Element = Stroke | Shape | Text;

/** The field groups of an update (a group is all its keys or none of them). */
export interface UpdateSet {
  points?: number[];
  x1?: number;
  y1?: number;
  x2?: number;
  y2?: number;
  x?: number;
  y?: number;
  size?: number;
  text?: string;
  color?: string;
  width?: number;
  /** null removes the fill */
  fill?: string | null;
}

export type DurableOp =
  | { t: 'stroke'; op: string; stroke: Stroke }
  | { t: 'shape'; op: string; shape: Shape }
  | { t: 'text'; op: string; text: Text }
  | { t: 'update'; op: string; id: string; set: UpdateSet }
  | { t: 'erase'; op: string; ids: string[] }
  | { t: 'restore'; op: string; ids: string[] }
  | { t: 'clear'; op: string };

export type OpKind = 'stroke' | 'shape' | 'text' | 'update' | 'erase' | 'restore' | 'clear';

export interface EvMsg {
  t: 'ev';
  seq: number;
  op?: string;
  from?: string;
  kind: OpKind;
  stroke?: Stroke;
  shape?: Shape;
  text?: Text;
  /** update: the element and the (rounded) groups */
  id?: string;
  set?: UpdateSet;
  ids?: string[];
}

/** Ephemeral drafts (relayed with from/name added). */
export type DraftOut = { t: 'draft'; stroke: Stroke } | { t: 'draft'; shape: Shape } | { t: 'draft'; text: Text } | { t: 'draft'; update: { id: string; set: UpdateSet } };
export interface DraftMsg {
  t: 'draft';
  stroke?: Stroke;
  shape?: Shape;
  text?: Text;
  update?: { id: string; set: UpdateSet };
  from?: string;
  name?: string;
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
  /** every visible element in drawing order (updates applied) */
  strokes: Element[];
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
  | DraftMsg
  | { t: 'cursor'; x: number; y: number; from?: string; name?: string }
  | ViewportMsg
  | { t: 'presence'; clients: PresenceClient[] }
  | { t: 'pong'; ts: number }
  | { t: 'error'; code: string; msg?: string; op?: string };

export const BOARD_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_POINTS = 10000; // points per stroke (20000 numbers)
export const COORD_LIMIT = 1e7;
export const MAX_TEXT_BYTES = 4096;
export const MAX_WIDTH = 200;
export const MAX_TEXT_SIZE = 1000;
