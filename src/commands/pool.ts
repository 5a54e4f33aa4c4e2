/** The run's scheduler: at most `limit` hosts at once, each host's failure its own. */

/**
 * Run `fn` over items with at most `limit` at once, keeping the order of results. A rejection of
 * `fn` becomes `onError(item, error)` in that item's place: it frees the slot and stops nothing.
 * (Before, it rejected the whole pool at once while the other hosts were still working, so the run
 * ended, and released its lock, with backups still in flight and their results lost.)
 */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (t: T) => Promise<R>,
  onError: (t: T, e: unknown) => R,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      try {
        out[i] = await fn(item);
      } catch (e) {
        out[i] = onError(item, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
