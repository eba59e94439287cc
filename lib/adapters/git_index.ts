/**
 * Read which paths a worktree's index holds straight from `<git-dir>/index`
 * (gitformat-index(5), versions 2–4), so "is this file tracked?" costs no
 * git process. Anything this reader does not fully understand — another
 * version, a split or sparse index, a SHA-256 repo, bytes that do not add
 * up — answers null and the caller asks git. Needs `--allow-read`.
 * @module
 */
import { join } from "node:path";

/** SHA-1 object names; SHA-256 repos are left to git. */
const HASH_LEN = 20;
/** ctime, mtime, dev, ino, mode, uid, gid, size: ten 32-bit fields. */
const STAT_LEN = 40;
const EXTENDED = 0x4000;
const NAME_MASK = 0xfff;

const enc = new TextEncoder();

function sameBytes(a: Uint8Array, b: Uint8Array, bStart: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[bStart + i]) return false;
  return true;
}

/**
 * Which of `paths` (UTF-8, relative to the worktree top) have an entry in
 * the index bytes `buf` (any stage, any flags — what `git ls-files` lists),
 * or null when `buf` is not an index this reader can vouch for. Pure.
 */
export function indexHasPaths(
  buf: Uint8Array,
  paths: string[],
): Set<string> | null {
  const len = buf.length;
  if (len < 12 + HASH_LEN) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // "DIRC"
  if (view.getUint32(0) !== 0x44495243) return null;
  const version = view.getUint32(4);
  if (version < 2 || version > 4) return null;
  const count = view.getUint32(8);
  const wanted = paths.map((p) => ({ path: p, bytes: enc.encode(p) }));
  const found = new Set<string>();
  const end = len - HASH_LEN;
  // v4: the previous entry's path, which the next one is based on.
  let prev = new Uint8Array(256);
  let prevLen = 0;
  let off = 12;
  for (let i = 0; i < count; i++) {
    const flagsAt = off + STAT_LEN + HASH_LEN;
    if (flagsAt + 2 > end) return null;
    const flags = view.getUint16(flagsAt);
    let nameAt = flagsAt + 2;
    if (flags & EXTENDED) {
      if (version < 3) return null;
      nameAt += 2;
    }
    let name: Uint8Array;
    let nameStart: number;
    if (version === 4) {
      // varint (git's varint.c): bytes to drop from the previous path.
      let p = nameAt;
      if (p >= end) return null;
      let c = buf[p++];
      let strip = c & 127;
      while (c & 128) {
        if (p >= end || strip > 0xffffff) return null;
        c = buf[p++];
        strip = ((strip + 1) * 128) + (c & 127);
      }
      const nul = buf.indexOf(0, p);
      if (nul < 0 || nul >= end || strip > prevLen) return null;
      const keep = prevLen - strip;
      const total = keep + (nul - p);
      if (total > prev.length) {
        const grown = new Uint8Array(Math.max(total, prev.length * 2));
        grown.set(prev.subarray(0, keep));
        prev = grown;
      }
      prev.set(buf.subarray(p, nul), keep);
      prevLen = total;
      name = prev;
      nameStart = 0;
      off = nul + 1;
    } else {
      const nul = buf.indexOf(0, nameAt);
      if (nul < 0 || nul >= end) return null;
      prevLen = nul - nameAt;
      name = buf;
      nameStart = nameAt;
      // 1–8 NULs pad the entry to a multiple of eight bytes.
      const next = off + ((nul - off + 8) & ~7);
      if (next > end) return null;
      for (let k = nul; k < next; k++) if (buf[k] !== 0) return null;
      off = next;
    }
    const nameLen = flags & NAME_MASK;
    if (nameLen !== NAME_MASK && nameLen !== prevLen) return null;
    for (const w of wanted) {
      if (w.bytes.length === prevLen && sameBytes(w.bytes, name, nameStart)) {
        found.add(w.path);
      }
    }
  }
  // Extensions: a split index ("link") keeps entries elsewhere, a sparse
  // one ("sdir") folds directories; both are git's to read.
  while (off < end) {
    if (off + 8 > end) return null;
    const sig = String.fromCharCode(...buf.subarray(off, off + 4));
    if (sig === "link" || sig === "sdir") return null;
    off += 8 + view.getUint32(off + 4);
  }
  return off === end ? found : null;
}

/**
 * {@link indexHasPaths} for the worktree whose git dir is `gitDir` (repo
 * config in `commonDir`); null when the index or the repo is not one this
 * reader vouches for.
 */
export async function trackedFromIndex(
  dirs: { gitDir: string; commonDir: string },
  paths: string[],
): Promise<Set<string> | null> {
  let buf: Uint8Array;
  let config: string;
  try {
    [buf, config] = await Promise.all([
      Deno.readFile(join(dirs.gitDir, "index")),
      Deno.readTextFile(join(dirs.commonDir, "config")),
    ]);
  } catch {
    return null;
  }
  // extensions.objectFormat (sha256) changes every object name's size.
  if (/objectformat/i.test(config)) return null;
  return indexHasPaths(buf, paths);
}
