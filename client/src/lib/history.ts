// Undo/redo of the user's OWN actions, expressed as ops that are safe with
// other people drawing at the same time: adds are undone by erase (redo:
// restore), so undo never removes someone else's element, and redo of a
// clear hides only what that clear hid; an update (move, resize, restyle,
// text edit) is undone by an update back to the previous values of the
// groups it changed (redo: the same update again).

import type { DurableOp, UpdateSet } from './types';

export interface Change {
  id: string;
  before: UpdateSet;
  after: UpdateSet;
}

export type Action =
  | { kind: 'stroke'; ids: string[] } // any add (stroke, shape, text, duplicate); undo: erase, redo: restore
  | { kind: 'erase'; ids: string[] } // undo: restore, redo: erase
  | { kind: 'clear'; ids: string[] } // the ids the clear hid; undo: restore, redo: erase
  | { kind: 'update'; changes: Change[] }; // undo: update to `before`, redo: update to `after`

function empty(a: Action): boolean {
  return a.kind === 'update' ? a.changes.length === 0 : a.ids.length === 0;
}

function ops(a: Action, undo: boolean, newOp: () => string): DurableOp[] {
  if (a.kind === 'update') return a.changes.map((c) => ({ t: 'update', op: newOp(), id: c.id, set: undo ? c.before : c.after }));
  const hide = a.kind === 'stroke' ? undo : !undo;
  return [{ t: hide ? 'erase' : 'restore', op: newOp(), ids: a.ids }];
}

export class History {
  private undoStack: Action[] = [];
  private redoStack: Action[] = [];

  constructor(private readonly limit = 500) {}

  push(a: Action): void {
    if (empty(a)) return;
    this.undoStack.push(a);
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack = [];
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }
  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** The ops that undo the last action (op ids from `newOp`); empty when there is none. */
  undo(newOp: () => string): DurableOp[] {
    const a = this.undoStack.pop();
    if (!a) return [];
    this.redoStack.push(a);
    return ops(a, true, newOp);
  }

  redo(newOp: () => string): DurableOp[] {
    const a = this.redoStack.pop();
    if (!a) return [];
    this.undoStack.push(a);
    return ops(a, false, newOp);
  }
}
