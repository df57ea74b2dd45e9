// Undo/redo of the user's OWN actions, expressed as erase/restore ops so that
// they are safe with other people drawing at the same time: undo never
// removes someone else's stroke, and redo of a clear hides only what that
// clear hid.

import type { DurableOp } from './types';

export type Action =
  | { kind: 'stroke'; ids: string[] } // undo: erase, redo: restore
  | { kind: 'erase'; ids: string[] } // undo: restore, redo: erase
  | { kind: 'clear'; ids: string[] }; // the ids the clear hid; undo: restore, redo: erase

export class History {
  private undoStack: Action[] = [];
  private redoStack: Action[] = [];

  constructor(private readonly limit = 500) {}

  push(a: Action): void {
    if (a.ids.length === 0) return;
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

  /** The op that undoes the last action (op id from `newOp`), or null. */
  undo(newOp: () => string): DurableOp | null {
    const a = this.undoStack.pop();
    if (!a) return null;
    this.redoStack.push(a);
    return a.kind === 'stroke'
      ? { t: 'erase', op: newOp(), ids: a.ids }
      : { t: 'restore', op: newOp(), ids: a.ids };
  }

  redo(newOp: () => string): DurableOp | null {
    const a = this.redoStack.pop();
    if (!a) return null;
    this.undoStack.push(a);
    return a.kind === 'stroke'
      ? { t: 'restore', op: newOp(), ids: a.ids }
      : { t: 'erase', op: newOp(), ids: a.ids };
  }
}
