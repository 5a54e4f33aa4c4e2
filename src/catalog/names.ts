/**
 * Names in the catalog are untrusted on the way out of a store (a directory or an object listing
 * anyone with access to the store could have written) and checked on the way in: an id or a file
 * name that would leave its item's place is refused, never joined into a path or a key.
 */

/** A backup or ready id: the backup's UTC time, e.g. 20261124T031500Z. */
const ID = /^\d{8}T\d{6}Z$/;

export function isItemId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/** A data file of an item: one plain name (no separator, not `.` or `..`, no control characters). */
export function isItemFileName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 255 &&
    /^[A-Za-z0-9._-]+$/.test(name) &&
    name !== '.' &&
    name !== '..'
  );
}
