/**
 * Session receipts on disk (docs/REFERENCE.md, "Session state"): the global receipt
 * `<data>/git-paw/sessions/<session>.json` and the per-repo discovery file
 * `<repo>/.git-paw/sessions/<session>.json`. Written atomically (temp +
 * rename), validated with zod on read.
 *
 * Needs `--allow-read`, `--allow-write`, `--allow-env`.
 * @module
 */
import { isAbsolute, join } from "node:path";
import {
  type DiscoveryFile,
  parseDiscovery,
  parseReceipt,
  type Receipt,
} from "../core/session.ts";
import { AppError } from "../core/errors.ts";
import { homeDir } from "./config_store.ts";
import { readTextOrNull, writeTextAtomic } from "../adapters/fs.ts";

/** `$XDG_DATA_HOME/git-paw` (if absolute) else `~/.local/share/git-paw`. */
function dataHome(): string {
  const xdg = Deno.env.get("XDG_DATA_HOME");
  const base = xdg && isAbsolute(xdg)
    ? xdg
    : join(homeDir(), ".local", "share");
  return join(base, "git-paw");
}

/** Directory of the global receipts. */
export function receiptsDir(): string {
  return join(dataHome(), "sessions");
}

/** Global receipt path of a session. */
export function receiptPath(session: string): string {
  return join(receiptsDir(), `${session}.json`);
}

/** Broker data directory of a session (its durable log lives here). */
export function brokerDataDir(session: string): string {
  return join(receiptsDir(), session);
}

/** Per-repo discovery file of a session. */
function discoveryPath(repo: string, session: string): string {
  return join(repo, ".git-paw", "sessions", `${session}.json`);
}

/** A receipt that exists but cannot be used. */
export class CorruptReceiptError extends AppError {
  readonly path: string;
  readonly session: string;
  constructor(path: string, session: string, detail: string) {
    super(
      `Session error: receipt ${path} is corrupt (${detail}). Run \`git paw purge\` to discard it.`,
      "corrupt_receipt",
    );
    this.path = path;
    this.session = session;
  }
}

/**
 * Read and validate a receipt file; `null` when it does not exist.
 * @throws {CorruptReceiptError} when it is not valid JSON or not a receipt.
 */
async function readReceiptFile(path: string): Promise<Receipt | null> {
  const text = await readTextOrNull(path);
  if (text === null) return null;
  const session = path.split("/").pop()!.replace(/\.json$/, "");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CorruptReceiptError(
      path,
      session,
      `invalid JSON: ${(e as Error).message}`,
    );
  }
  const r = parseReceipt(raw);
  if (!r.ok) throw new CorruptReceiptError(path, session, r.error);
  return r.value;
}

/** The receipt of a session by name; `null` when none. */
export async function readReceipt(session: string): Promise<Receipt | null> {
  return await readReceiptFile(receiptPath(session));
}

async function listJson(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".json")) out.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Session names that have a discovery file in `repo`. */
async function discoveredSessions(repo: string): Promise<string[]> {
  const dir = join(repo, ".git-paw", "sessions");
  const names: string[] = [];
  for (const f of await listJson(dir)) {
    try {
      const r = parseDiscovery(
        JSON.parse(await Deno.readTextFile(join(dir, f))),
      );
      if (r.ok) names.push(r.value.session_name);
      else names.push(f.replace(/\.json$/, ""));
    } catch {
      names.push(f.replace(/\.json$/, ""));
    }
  }
  return names;
}

/**
 * The receipt of the session that belongs to `repo`, found through the
 * repo's discovery file (O(1)), else by scanning the global receipts for
 * `repo_path` (unreadable receipts of other repos are skipped).
 * @throws {CorruptReceiptError} when this repo's receipt is corrupt.
 */
export async function findReceiptForRepo(
  repo: string,
): Promise<Receipt | null> {
  for (const name of await discoveredSessions(repo)) {
    const r = await readReceipt(name);
    if (r && r.repo_path === repo) return r;
  }
  for (const f of await listJson(receiptsDir())) {
    let r: Receipt | null;
    try {
      r = await readReceiptFile(join(receiptsDir(), f));
    } catch {
      continue;
    }
    if (r && r.repo_path === repo) return r;
  }
  return null;
}

/** Every readable global receipt (corrupt ones reported separately). */
export async function allReceipts(): Promise<{
  receipts: Receipt[];
  corrupt: CorruptReceiptError[];
}> {
  const receipts: Receipt[] = [];
  const corrupt: CorruptReceiptError[] = [];
  for (const f of await listJson(receiptsDir())) {
    try {
      const r = await readReceiptFile(join(receiptsDir(), f));
      if (r) receipts.push(r);
    } catch (e) {
      if (e instanceof CorruptReceiptError) corrupt.push(e);
      else throw e;
    }
  }
  return { receipts, corrupt };
}

/** Write the global receipt atomically. */
export async function writeReceipt(receipt: Receipt): Promise<void> {
  // Owner-only: it may carry the broker's bearer token.
  await writeTextAtomic(
    receiptPath(receipt.session_name),
    JSON.stringify(receipt, null, 2) + "\n",
    { mode: 0o600 },
  );
  // The receipts dir holds every session's broker data too: owner-only,
  // also when an older version made it 0755.
  await Deno.chmod(receiptsDir(), 0o700).catch(() => {});
}

/** Write the per-repo discovery file atomically. */
export async function writeDiscovery(
  repo: string,
  doc: DiscoveryFile,
): Promise<void> {
  await writeTextAtomic(
    discoveryPath(repo, doc.session_name),
    JSON.stringify(doc, null, 2) + "\n",
  );
}

/** Remove both receipt files of a session (missing files are fine). */
export async function removeReceipts(
  repo: string | null,
  session: string,
): Promise<void> {
  const paths = [receiptPath(session)];
  if (repo) paths.push(discoveryPath(repo, session));
  for (const p of paths) {
    await Deno.remove(p).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}
