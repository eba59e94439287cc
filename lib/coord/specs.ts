/**
 * Reads the specs directory of a repo (`[specs] dir` / `type`, with the
 * Spec Kit auto-detection) and turns it into {@link SpecEntry} values with
 * the pure backends of `lib/core/specs.ts`. Used by spec-driven launch and
 * by the MCP server. Needs `--allow-read`.
 * @module
 */
import { isAbsolute, join } from "node:path";
import type { Config } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import {
  markdownEntry,
  openspecEntry,
  type SpecBackend,
  type SpecEntry,
  speckitEntries,
} from "../core/specs.ts";
import { listDir, readTextOrNull, statOrNull } from "../adapters/fs.ts";

export type { SpecEntry } from "../core/specs.ts";

/** Where OpenSpec keeps its change proposals, relative to the repo root. */
const OPENSPEC_CHANGES = "openspec/changes";

/** Where the specs are and in which format. */
export type SpecsSettings = {
  /** As configured (relative to the repo root unless absolute). */
  dir: string;
  /** Absolute path of the specs directory. */
  path: string;
  type: SpecBackend;
};

/**
 * The specs settings of `repo`: the `[specs]` table, else an existing
 * `.specify/specs/` (Spec Kit), else an existing `openspec/changes/` (the
 * folder `openspec init` makes), else null.
 */
export async function specsSettings(
  repo: string,
  config: Config,
): Promise<SpecsSettings | null> {
  let dir: string;
  let type: SpecBackend;
  if (config.specs) {
    ({ dir, type } = config.specs);
  } else if ((await statOrNull(join(repo, ".specify", "specs")))?.isDirectory) {
    dir = ".specify/specs";
    type = "speckit";
  } else if (
    (await statOrNull(join(repo, OPENSPEC_CHANGES)))?.isDirectory
  ) {
    dir = OPENSPEC_CHANGES;
    type = "openspec";
  } else {
    return null;
  }
  return { dir, type, path: isAbsolute(dir) ? dir : join(repo, dir) };
}

/**
 * The specs settings {@link listSpecs} reads: those of {@link specsSettings},
 * with `format` (`--specs-format`) replacing the configured type (and, with
 * nothing configured, the backend's usual directory).
 *
 * @throws {AppError} `Spec error: no [specs] section in config` when there is
 * nothing configured, detected or asked for.
 */
export async function requireSpecsSettings(
  repo: string,
  config: Config,
  format?: SpecBackend,
): Promise<SpecsSettings> {
  let settings = await specsSettings(repo, config);
  if (format) {
    const dir = settings?.dir ??
      (format === "speckit" ? ".specify/specs" : format === "openspec" &&
          (await statOrNull(join(repo, OPENSPEC_CHANGES)))?.isDirectory
        ? OPENSPEC_CHANGES
        : "specs");
    settings = {
      dir,
      type: format,
      path: isAbsolute(dir) ? dir : join(repo, dir),
    };
  }
  if (!settings) {
    throw new AppError(
      'Spec error: no [specs] section in config (add [specs] with dir = "…" and type = "openspec", "markdown" or "speckit" to .git-paw/config.toml)',
      "spec",
    );
  }
  return settings;
}

/** Options of {@link listSpecs}. */
export type ListSpecsOptions = {
  /** Read this format instead of the configured one (`--specs-format`). */
  format?: SpecBackend;
  /** Receives skipped-spec notes (default: dropped). */
  onWarning?: (message: string) => void;
};

/**
 * Every pending spec of `repo`, in directory order: each OpenSpec change
 * (except `archive`) with a `tasks.md`, each markdown file with
 * `paw_status: pending`, or each Spec Kit feature's open work.
 *
 * @throws {AppError} `Spec error: no [specs] section in config` when there is
 * nothing configured or detected; `Spec error: specs directory does not
 * exist: <path>` when the directory is missing.
 */
export async function listSpecs(
  repo: string,
  config: Config,
  opts: ListSpecsOptions = {},
): Promise<SpecEntry[]> {
  const settings = await requireSpecsSettings(repo, config, opts.format);
  const entries = await listDir(settings.path);
  if (entries === null) {
    const st = await statOrNull(settings.path);
    throw new AppError(
      st
        ? `Spec error: specs path is not a directory: ${settings.path}`
        : `Spec error: specs directory does not exist: ${settings.path}`,
      "spec",
    );
  }
  const warn = opts.onWarning ?? (() => {});
  const prefix = config.branch_prefix;
  const out: SpecEntry[] = [];
  for (const e of entries) {
    const path = join(settings.path, e.name);
    switch (settings.type) {
      case "openspec": {
        if (!e.isDirectory || e.name === "archive") break;
        const tasks = await readTextOrNull(join(path, "tasks.md"));
        if (tasks === null) {
          warn(`skipping change ${e.name}: no tasks.md found`);
          break;
        }
        out.push(openspecEntry({
          id: e.name,
          tasks,
          capabilities: await capabilitySpecs(join(path, "specs")),
        }, prefix));
        break;
      }
      case "markdown": {
        if (!e.isFile || !e.name.toLowerCase().endsWith(".md")) break;
        const text = await readTextOrNull(path);
        const entry = text === null
          ? null
          : markdownEntry({ name: e.name, text }, prefix);
        if (entry) out.push(entry);
        break;
      }
      case "speckit": {
        if (!e.isDirectory) break;
        const tasks = await readTextOrNull(join(path, "tasks.md"));
        if (tasks === null) {
          warn(`skipping feature ${e.name}: no tasks.md found`);
          break;
        }
        const found = speckitEntries({
          name: e.name,
          tasks,
          spec: await readTextOrNull(join(path, "spec.md")),
          plan: await readTextOrNull(join(path, "plan.md")),
          checklists: await filesIn(join(path, "checklists")),
        });
        if (found.length === 0 && /- \[[xX]\]/.test(tasks)) {
          warn(`feature ${e.name} has no open tasks — skipping`);
        }
        out.push(...found);
        break;
      }
    }
  }
  return out;
}

/** `specs/<cap>/spec.md` of a change directory. */
async function capabilitySpecs(
  dir: string,
): Promise<Array<{ name: string; spec: string }>> {
  const out: Array<{ name: string; spec: string }> = [];
  for (const e of await listDir(dir) ?? []) {
    if (!e.isDirectory) continue;
    const spec = await readTextOrNull(join(dir, e.name, "spec.md"));
    if (spec !== null) out.push({ name: e.name, spec });
  }
  return out;
}

/** The regular files directly in `dir`, with their text. */
async function filesIn(
  dir: string,
): Promise<Array<{ name: string; content: string }>> {
  const out: Array<{ name: string; content: string }> = [];
  for (const e of await listDir(dir) ?? []) {
    if (!e.isFile) continue;
    const content = await readTextOrNull(join(dir, e.name));
    if (content !== null) out.push({ name: e.name, content });
  }
  return out;
}
