/**
 * In-process async mutex keyed by a string (a file or directory path), for
 * read-modify-write edits of files several concurrent setups share. It does
 * not guard against other processes.
 * @module
 */

const tails = new Map<string, Promise<unknown>>();

/**
 * Run `fn` once every earlier {@link withLock} call for the same `key` has
 * settled; calls for other keys run freely.
 */
export function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = tails.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.then(() => {}, () => {});
  tails.set(key, tail);
  // Drop the entry once nobody queued behind us, so the map does not grow.
  tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return next;
}
