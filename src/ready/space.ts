/**
 * Pure: the free space the ready step asks for before it starts. What it writes beside what is
 * already on disk: a new base (rebuild) or what the applied streams add to the existing one, the
 * verify view (a whole copy only where no copy-free view, reflink or overlayfs, can be had), and
 * the ready file. Streams are zstd at about 3:1 on InnoDB data: 4x is the margin the step always used.
 */
export const STREAM_EXPANSION = 4;

export interface SpaceInput {
  rebuild: boolean;
  /** Bytes of the prepared base on disk now (0 when it is rebuilt). */
  baseBytes: number;
  /** Stored bytes of the backups this step extracts and applies. */
  applyBytes: number;
  /** The verify view may need a full copy: no overlay possible here (or XtraBackup's final prepare). */
  viewMayCopy: boolean;
}

export function readySpaceNeed(i: SpaceInput): number {
  const added = i.applyBytes * STREAM_EXPANSION;
  const datadir = i.rebuild ? added : i.baseBytes + added;
  return added + (i.viewMayCopy ? datadir : 0) + Math.ceil(datadir / 2);
}
