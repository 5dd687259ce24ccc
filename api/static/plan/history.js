/**
 * Undo and redo for the planner's editor: snapshots of the plan's features (JSON text) before each edit,
 * at most `limit` kept. The editor decides what a snapshot is and how to restore one.
 */

export function createHistory(limit) {
  let past = [];
  let future = [];
  return {
    /** Before an edit: remember how things were; a new edit forgets what was undone. */
    remember: function (snapshot) {
      past.push(snapshot);
      if (past.length > limit) past.shift();
      future = [];
    },
    /** The snapshot to go back to (null if none), with `current` kept for redo. */
    undo: function (current) {
      if (!past.length) return null;
      future.push(current);
      return past.pop();
    },
    redo: function (current) {
      if (!future.length) return null;
      past.push(current);
      return future.pop();
    },
    canUndo: function () { return past.length > 0; },
    canRedo: function () { return future.length > 0; },
    clear: function () { past = []; future = []; },
  };
}
