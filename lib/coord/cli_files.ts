/**
 * The per-CLI files of an agent worktree: the instruction file that imports
 * AGENTS.md (claude `CLAUDE.md`, gemini `GEMINI.md`) and the local settings
 * file with git-paw's pre-allow rules and state hooks (claude
 * `.claude/settings.local.json`, gemini `.gemini/settings.json`), and the
 * CLI's MCP config with git-paw's server (claude `.mcp.json`). A user's
 * file is merged into, never overwritten: its original bytes are kept in the
 * worktree's git dir (owner-only) and come back byte for byte on teardown
 * when nothing else changed it meanwhile; otherwise exactly git-paw's
 * entries are taken out. What was done is returned as records for the
 * agent marker. Needs `--allow-read`, `--allow-write`.
 * @module
 */
import { dirname, join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import {
  type CliFilePlan,
  cliFilePlans,
  type CliProfile,
  type Json,
  type SettingsContext,
} from "../core/cli_profiles.ts";
import {
  jsonEqual,
  type JsonPatch,
  mergeJson,
  unmergeJson,
} from "../core/json_merge.ts";
import { removeBlock, upsertBlock } from "../core/managed_block.ts";
import { readTextOrNull, statOrNull } from "../adapters/fs.ts";

import { CliFileRecord } from "./cli_file_record.ts";
export { CliFileRecord };

/** Marks git-paw's import block in a user's instruction file. */
const IMPORT_MARKERS = {
  begin:
    "<!-- git-paw:import (removed when the agent worktree is torn down) -->",
  end: "<!-- git-paw:import-end -->",
};

/** Options for {@link planCliFiles}. */
export type PlanOptions = SettingsContext & {
  /**
   * Entries of a Claude-format settings file (`[clis.NAME] settings_path`)
   * merged into the worktree's local settings with git-paw's own.
   */
  extraSettings?: { [key: string]: Json } | null;
};

/** The files a profile wants in a worktree. Pure. */
export function planCliFiles(
  profile: CliProfile,
  opts: PlanOptions,
): CliFilePlan[] {
  return cliFilePlans(profile, opts).map((plan) =>
    plan.kind === "json" && opts.extraSettings &&
      profile.settings?.format === "claude" &&
      plan.path === profile.settings.file
      ? {
        ...plan,
        content: mergeJson(structuredClone(opts.extraSettings), plan.content)
          .value as { [key: string]: Json },
      }
      : plan
  );
}

/** Parse a settings file's text (JSON or TOML); null when it is not one. */
function parseSettings(kind: "json" | "toml", text: string): Json | null {
  if (text.trim() === "") return {};
  try {
    return (kind === "json" ? JSON.parse(text) : parseToml(text)) as Json;
  } catch {
    return null;
  }
}

function renderSettings(kind: "json" | "toml", value: Json): string {
  return kind === "json"
    ? JSON.stringify(value, null, 2) + "\n"
    : stringifyToml(value as Record<string, unknown>) + "\n";
}

/**
 * Hex SHA-256 of `text`'s UTF-8 bytes. Web Crypto, not node:crypto: that
 * module alone costs every `start` ~40 ms of CPU to load.
 */
async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** A file written by {@link applyCliFile}, before it is hidden from git. */
export type Applied = Omit<CliFileRecord, "hidden">;

function importsLine(text: string, line: string): boolean {
  const alt = line.replace(/^@/, "@./");
  return text.split("\n").some((l) => l.trim() === line || l.trim() === alt);
}

/**
 * Write one planned file into the worktree. `backupDir` (in the worktree's
 * git dir) receives the user's original bytes. Returns null when the file
 * already holds what git-paw would add (nothing written).
 */
export async function applyCliFile(
  worktree: string,
  plan: CliFilePlan,
  backupDir: string,
): Promise<Applied | null> {
  const abs = join(worktree, plan.path);
  const existing = await readTextOrNull(abs);
  let next: string;
  let patch: JsonPatch | null = null;
  if (plan.kind === "import") {
    if (existing !== null && importsLine(existing, plan.line)) return null;
    next = existing === null
      ? `${plan.line}\n`
      : upsertBlock(existing, plan.line, IMPORT_MARKERS);
  } else if (plan.kind === "own") {
    if (existing === plan.content) return null;
    next = plan.content;
  } else {
    const base = existing === null
      ? undefined
      : parseSettings(plan.kind, existing);
    // A file we cannot read as settings is the user's: leave it alone.
    if (base === null) return null;
    const r = mergeJson(base, plan.content);
    if (!r.patch) return null;
    patch = r.patch;
    next = renderSettings(plan.kind, r.value);
  }
  const createdDirs: string[] = [];
  for (
    let d = dirname(plan.path);
    d !== "." && d !== "" && !await statOrNull(join(worktree, d));
    d = dirname(d)
  ) createdDirs.unshift(d);
  if (createdDirs.length) {
    await Deno.mkdir(join(worktree, createdDirs.at(-1)!), { recursive: true });
  }
  let backup: string | undefined;
  if (existing !== null) {
    await Deno.mkdir(backupDir, { recursive: true, mode: 0o700 });
    backup = join(backupDir, plan.path.replaceAll("/", "__"));
    await Deno.writeTextFile(backup, existing, { mode: 0o600 });
  }
  await Deno.writeTextFile(abs, next);
  return {
    path: plan.path,
    kind: plan.kind,
    created: existing === null,
    created_dirs: createdDirs,
    ...(patch ? { patch } : {}),
    ...(backup ? { backup } : {}),
    written_sha256: await sha256(next),
    ...(plan.kind === "import" ? { line: plan.line } : {}),
  };
}

/**
 * Undo one record: a file git-paw created is deleted (and the directories
 * it made for it, when empty); a user's file gets its original bytes back
 * when it is as git-paw left it, else loses exactly git-paw's entries.
 */
export async function restoreCliFile(
  worktree: string,
  rec: CliFileRecord,
): Promise<void> {
  const abs = join(worktree, rec.path);
  const current = await readTextOrNull(abs);
  const original = rec.backup ? await readTextOrNull(rec.backup) : null;
  if (current !== null) {
    if (await sha256(current) === rec.written_sha256) {
      if (rec.created) await Deno.remove(abs);
      else if (original !== null) await Deno.writeTextFile(abs, original);
    } else if (rec.kind === "own") {
      if (rec.created) await Deno.remove(abs);
      else if (original !== null) await Deno.writeTextFile(abs, original);
    } else if (rec.kind === "import") {
      const line = rec.line ?? "";
      const lines = current.split("\n");
      const at = lines.findIndex((l) => l.trim() === line);
      if (rec.created && at >= 0) lines.splice(at, 1);
      const stripped = rec.created
        ? lines.join("\n")
        : removeBlock(current, IMPORT_MARKERS);
      if (rec.created && stripped.trim() === "") await Deno.remove(abs);
      else await Deno.writeTextFile(abs, stripped);
    } else {
      await restoreSettings(abs, current, rec, rec.kind, original);
    }
  }
  for (const d of [...rec.created_dirs].reverse()) {
    await Deno.remove(join(worktree, d)).catch(() => {}); // only when empty
  }
  if (rec.backup) await Deno.remove(rec.backup).catch(() => {});
}

/** A settings file changed since setup: take our entries out of it. */
async function restoreSettings(
  abs: string,
  current: string,
  rec: CliFileRecord,
  kind: "json" | "toml",
  original: string | null,
): Promise<void> {
  const parsed = parseSettings(kind, current);
  if (parsed === null) return; // not settings any more: the user's now
  const rest = rec.patch ? unmergeJson(parsed, rec.patch as JsonPatch) : parsed;
  if (rest === undefined) {
    await Deno.remove(abs);
    return;
  }
  if (original !== null) {
    const orig = parseSettings(kind, original);
    if (orig !== null && jsonEqual(orig, rest)) {
      await Deno.writeTextFile(abs, original);
      return;
    }
  }
  await Deno.writeTextFile(abs, renderSettings(kind, rest));
}
