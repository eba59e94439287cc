/**
 * Small file-system helpers on Deno's own API (cheaper to load than
 * `node:fs`, which costs ~20 ms of start-up): "or null" reads and stats,
 * atomic writes, canonical paths. Needs `--allow-read` (and `--allow-write`
 * for {@link writeTextAtomic}).
 * @module
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

/** True when `path` exists (following symlinks). */
export function existsSync(path: string): boolean {
  return statOrNullSync(path) !== null;
}

/** `Deno.statSync(path)`, or null when it does not exist or is unreadable. */
function statOrNullSync(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/**
 * True when `path` is a file this user may run: a regular file (after
 * symlinks) with an execute bit (any file on Windows).
 */
export function isExecutableSync(path: string): boolean {
  const st = statOrNullSync(path);
  if (!st?.isFile) return false;
  return Deno.build.os === "windows" || ((st.mode ?? 0) & 0o111) !== 0;
}

/** `Deno.stat(path)`, or null when it does not exist or is unreadable. */
export async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

/**
 * The text of `path`, or null when there is no such file (missing, or a
 * directory). Other faults (permissions, bad UTF-8 aside) throw.
 */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.IsADirectory) return null;
    throw e;
  }
}

/** Options for {@link writeTextAtomic}. */
export type WriteAtomicOptions = {
  /** File mode of the new file (e.g. `0o600`, `0o755`). */
  mode?: number;
  /** fdatasync the temp file before the rename. Default false. */
  sync?: boolean;
};

/** Missing parents of an owner-only file are created owner-only (0700). */
function parentDirOptions(opts: WriteAtomicOptions): Deno.MkdirOptions {
  return opts.mode !== undefined && (opts.mode & 0o077) === 0
    ? { recursive: true, mode: 0o700 }
    : { recursive: true };
}

/**
 * Write `text` to `path` so a reader sees the old content or the new, never
 * a part: a temp file next to it, then a rename over it. Creates the parent
 * directory when missing.
 */
export async function writeTextAtomic(
  path: string,
  text: string,
  opts: WriteAtomicOptions = {},
): Promise<void> {
  await Deno.mkdir(dirname(path), parentDirOptions(opts));
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(
      tmp,
      text,
      opts.mode === undefined ? {} : { mode: opts.mode },
    );
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * {@link writeTextAtomic} for bytes: `chunks` are written in order (small
 * ones gathered into 1 MiB writes), each write awaited, so a large file does
 * not hold up the event loop.
 */
export async function writeBytesAtomic(
  path: string,
  chunks: Iterable<Uint8Array>,
  opts: WriteAtomicOptions = {},
): Promise<void> {
  await Deno.mkdir(dirname(path), parentDirOptions(opts));
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  let f: Deno.FsFile | null = null;
  try {
    f = await Deno.open(tmp, {
      write: true,
      createNew: true,
      ...(opts.mode === undefined ? {} : { mode: opts.mode }),
    });
    const buf = new Uint8Array(1 << 20);
    let used = 0;
    const drain = async (bytes: Uint8Array) => {
      let off = 0;
      while (off < bytes.length) off += await f!.write(bytes.subarray(off));
    };
    for (const c of chunks) {
      if (used + c.length > buf.length) {
        await drain(buf.subarray(0, used));
        used = 0;
      }
      if (c.length >= buf.length) await drain(c);
      else {
        buf.set(c, used);
        used += c.length;
      }
    }
    await drain(buf.subarray(0, used));
    if (opts.sync) await f.syncData();
    f.close();
    f = null;
    await Deno.rename(tmp, path);
  } catch (e) {
    try {
      f?.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Canonical absolute path (symlinks resolved) when it exists, else resolved. */
export async function canonical(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    // Canonicalise the parent at least (e.g. /tmp → /private/tmp on macOS).
    try {
      return join(await Deno.realPath(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** One directory entry as {@link listDir} reports it (symlinks followed). */
export type DirEntry = { name: string; isFile: boolean; isDirectory: boolean };

/**
 * The entries of directory `path`, sorted by name, symlinks resolved to
 * what they point at (a dangling link is neither file nor directory); null
 * when `path` is not a readable directory.
 */
export async function listDir(path: string): Promise<DirEntry[] | null> {
  const out: DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      let { isFile, isDirectory } = e;
      if (e.isSymlink) {
        const st = await statOrNull(join(path, e.name));
        isFile = st?.isFile ?? false;
        isDirectory = st?.isDirectory ?? false;
      }
      out.push({ name: e.name, isFile, isDirectory });
    }
  } catch {
    return null;
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Where a write to `path` (relative to `cwd`) lands when the kernel walks it:
 * component by component, each symlink followed (dangling ones too) and `..`
 * taken from where the walk really is, so `link/..` is the link target's
 * parent. Components that do not exist yet are kept as they are.
 */
async function kernelWriteTarget(
  cwd: string,
  path: string,
): Promise<string> {
  const parts = (isAbsolute(path) ? path : `${cwd}/${path}`).split("/");
  let at = "/";
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === "" || p === ".") continue;
    if (p === "..") {
      at = dirname(at);
      continue;
    }
    const next = join(at, p);
    let target: string | null = null;
    if (hops < 64) {
      try {
        target = await Deno.readLink(next);
      } catch { /* not a link, or missing */ }
    }
    if (target === null) {
      at = next;
      continue;
    }
    hops++;
    // Walk the link's target in place of this component.
    parts.unshift(
      ...(isAbsolute(target) ? target : `${at}/${target}`).split("/"),
    );
    at = "/";
  }
  return at;
}

/** The same path with `..` removed first (how `path.resolve` tools see it). */
async function lexicalWriteTarget(cwd: string, path: string): Promise<string> {
  return await kernelWriteTarget("/", resolve(cwd, path));
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith("/") ? root : `${root}/`);
}

/**
 * Resolve what the approval policy needs (lib/core/approval_policy.ts): the
 * worktree and each raw path, through symlinks and `..`. A tool may walk a
 * path as the kernel does or normalise `..` first: when the two land in
 * different places, the one outside the worktree is reported.
 */
export async function resolvePolicyPaths(
  cwd: string,
  worktree: string,
  paths: readonly string[],
): Promise<{ worktree: string; paths: Record<string, string> }> {
  const root = await kernelWriteTarget(cwd, worktree);
  const out: Record<string, string> = {};
  for (const p of paths) {
    const k = await kernelWriteTarget(cwd, p);
    const l = await lexicalWriteTarget(cwd, p);
    out[p] = k === l || !within(root, k) ? k : l;
  }
  return { worktree: root, paths: out };
}
