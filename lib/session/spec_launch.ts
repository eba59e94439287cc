/**
 * Spec-driven launch (docs/REFERENCE.md, "Spec backends"): `start
 * --from-all-specs`, `start --specs a,b` (bare `--specs`: a picker on a
 * terminal), `--specs-format`, `add --from-spec NAME`. Turns pending specs
 * into agents — branch, CLI, the spec for AGENTS.md, owned files — warns
 * about specs with uncommitted changes, and publishes each agent's owned
 * files as its first `agent.intent` once the broker is up.
 * Needs `--allow-read`, `--allow-run=git`, `--allow-net=127.0.0.1`.
 * @module
 */
import { relative } from "node:path";
import type { Config } from "../core/config.ts";
import { AppError, UsageError } from "../core/errors.ts";
import { MAX_AGENTS, type ReceiptWorktree } from "../core/session.ts";
import { slugify } from "../core/slug.ts";
import {
  selectSpecs,
  type SpecBackend,
  type SpecEntry,
} from "../core/specs.ts";
import { listSpecs, requireSpecsSettings } from "../coord/specs.ts";
import { validateBranchName } from "../adapters/git.ts";
import { gitTry } from "../adapters/git_run.ts";
import { eprintln, stdinIsTty } from "../output.ts";

/** Which specs a `start` launches (SPEC §1.1 step 2). */
export type SpecMode =
  /** `--from-all-specs`: every pending spec. */
  | { kind: "all" }
  /** Bare `--specs`: pick on a terminal. */
  | { kind: "picker" }
  /** `--specs a,b`: these names. */
  | { kind: "narrow"; names: string[] };

/** The spec flags of `start`. */
export type SpecFlags = {
  fromAllSpecs?: boolean;
  /** `--specs a,b` → the names; bare `--specs` → `true`. */
  specs?: string[] | true;
  specsFormat?: SpecBackend;
};

/** The spec mode the flags ask for, or null (a plain launch). */
export function specModeOf(flags: SpecFlags): SpecMode | null {
  if (flags.fromAllSpecs) return { kind: "all" };
  if (flags.specs === true) return { kind: "picker" };
  if (flags.specs !== undefined) {
    return flags.specs.length
      ? { kind: "narrow", names: flags.specs }
      : { kind: "picker" };
  }
  return null;
}

/** What a receipt keeps of an agent's spec. */
export type AgentSpec = NonNullable<ReceiptWorktree["spec"]>;

/** One agent planned from a spec. */
export type SpecChoice = {
  branch: string;
  cli: string;
  spec: AgentSpec;
};

/** The receipt's form of a spec entry. */
export function agentSpecOf(e: SpecEntry): AgentSpec {
  return { id: e.id, prompt: e.prompt, owned_files: e.owned_files ?? [] };
}

/**
 * The setup fields (`AgentSetup.specPrompt` / `ownedFiles`) of a receipt
 * agent: empty for one not launched from a spec.
 */
export function specSetupOf(
  w: Pick<ReceiptWorktree, "spec">,
): { specPrompt?: string; ownedFiles?: string[] } {
  return w.spec
    ? { specPrompt: w.spec.prompt, ownedFiles: w.spec.owned_files }
    : {};
}

/** Options of {@link chooseSpecAgents}. */
export type ChooseSpecOptions = {
  mode: SpecMode;
  format?: SpecBackend;
  /** `--cli`: wins over every spec's `paw_cli`. */
  cli?: string;
  /** Throws when a CLI cannot be launched. */
  resolve: (name: string) => unknown;
};

/**
 * The agents a spec-driven `start` launches, or null when no spec is
 * pending. Every name, branch and CLI is checked before anything changes.
 * CLI per spec: `--cli` > `paw_cli` > `default_spec_cli` > one picker
 * (terminal, pre-selecting `default_cli`) or `default_cli`.
 *
 * @throws {UsageError} bare `--specs` without a terminal
 * @throws {AppError} a `Spec error:` (unknown or ambiguous name, no specs
 * config) or a `Config error:` (too many agents)
 */
export async function chooseSpecAgents(
  repo: string,
  config: Config,
  opts: ChooseSpecOptions,
): Promise<SpecChoice[] | null> {
  const tty = stdinIsTty();
  if (opts.mode.kind === "picker" && !tty) {
    throw new UsageError(
      "Spec error: --specs without names needs a terminal to pick from; pass --specs NAME[,NAME...] or --from-all-specs.",
    );
  }
  const pending = await listSpecs(repo, config, {
    format: opts.format,
    onWarning: (m) => eprintln(`warning: ${m}`),
  });
  let entries: SpecEntry[];
  if (opts.mode.kind === "narrow") {
    const sel = selectSpecs(pending, opts.mode.names);
    if (!sel.ok) throw new AppError(sel.error, "spec");
    entries = sel.entries;
  } else if (pending.length === 0) {
    return null;
  } else if (opts.mode.kind === "picker") {
    const { pickSpecs } = await import("./pickers.ts");
    entries = await pickSpecs(pending);
  } else entries = pending;
  if (entries.length === 0) return null;
  if (entries.length > MAX_AGENTS) {
    throw new AppError(
      `Config error: ${entries.length} agents requested; maximum is ${MAX_AGENTS} per session. Pick fewer specs with --specs NAME[,NAME...].`,
      "config",
    );
  }
  await checkSpecBranches(repo, entries);
  let fallback = opts.cli ?? config.default_spec_cli ?? undefined;
  if (!fallback && entries.some((e) => !e.cli)) {
    if (tty) {
      const { pickClis } = await import("./pickers.ts");
      fallback = (await pickClis(["the specs without paw_cli"], config))[0];
    } else fallback = config.default_cli ?? undefined;
  }
  const choices = entries.map((e) => {
    const cli = opts.cli ?? e.cli ?? fallback;
    if (!cli) {
      throw new UsageError(
        `No CLI for spec '${e.id}'. Pass --cli NAME, set paw_cli in the spec, or set default_spec_cli in the config.`,
      );
    }
    return { branch: e.branch, cli, spec: agentSpecOf(e) };
  });
  for (const c of new Set(choices.map((c) => c.cli))) {
    try {
      opts.resolve(c);
    } catch (e) {
      if (e instanceof AppError) {
        throw new AppError(e.message, e.code, { exitCode: 1, cause: e });
      }
      throw e;
    }
  }
  await warnUncommittedSpecs(repo, config, entries, opts.format);
  return choices;
}

/** Valid, distinct branches and agent ids for `entries`. */
async function checkSpecBranches(
  repo: string,
  entries: readonly SpecEntry[],
): Promise<void> {
  await Promise.all(entries.map((e) => validateBranchName(e.branch, repo)));
  const bySlug = new Map<string, SpecEntry>();
  for (const e of entries) {
    const id = slugify(e.branch);
    const other = bySlug.get(id);
    if (other) {
      throw new UsageError(
        `Spec error: specs '${other.id}' and '${e.id}' would share the agent id '${id}'; launch them in separate sessions.`,
      );
    }
    bySlug.set(id, e);
  }
}

/**
 * The one spec `add --from-spec NAME` names (an id, or a Spec Kit feature
 * or numeric prefix with a single open entry).
 * @throws {AppError} a `Spec error:` when the name picks none or several
 */
export async function specForAdd(
  repo: string,
  config: Config,
  name: string,
): Promise<SpecEntry> {
  const pending = await listSpecs(repo, config, {
    onWarning: (m) => eprintln(`warning: ${m}`),
  });
  const sel = selectSpecs(pending, [name]);
  if (!sel.ok) throw new AppError(sel.error, "spec");
  if (sel.entries.length !== 1) {
    throw new AppError(
      `Spec error: '${name}' names ${sel.entries.length} specs (${
        sel.entries.map((e) => e.id).join(", ")
      }); add one at a time by its id.`,
      "spec",
    );
  }
  await warnUncommittedSpecs(repo, config, sel.entries);
  return sel.entries[0]!;
}

/**
 * Warn about each spec whose files have uncommitted changes: the agent's
 * worktree is made from committed history, so it sees only the prompt in
 * AGENTS.md, not the edited files. Only warns.
 */
async function warnUncommittedSpecs(
  repo: string,
  config: Config,
  entries: readonly SpecEntry[],
  format?: SpecBackend,
): Promise<void> {
  const settings = await requireSpecsSettings(repo, config, format);
  const seen = new Set<string>();
  for (const e of entries) {
    const rel = relative(repo, `${settings.path}/${e.source}`);
    if (seen.has(rel) || rel.startsWith("..")) continue;
    seen.add(rel);
    const r = await gitTry(repo, [
      "--literal-pathspecs",
      "status",
      "--porcelain",
      "--",
      rel,
    ]);
    if (r.code === 0 && r.stdout.trim() !== "") {
      eprintln(
        `warning: spec '${e.id}' has uncommitted changes in ${rel}; its worktree holds only what is committed (the prompt in AGENTS.md is the current text). Commit the spec to give the agent its files.`,
      );
    }
  }
}

/** How long a spec's owned files stay claimed on the broker: 8 hours. */
const SPEC_INTENT_SECONDS = 8 * 3600;

/**
 * Publish each spec agent's owned files as its `agent.intent`, so the
 * conflict detector knows them from the start. Best effort: a refusal or
 * an unreachable broker is a warning.
 */
export async function publishSpecIntents(
  brokerUrl: string,
  token: string | undefined,
  agents: ReadonlyArray<
    Pick<ReceiptWorktree, "branch" | "spec"> & { worktree_path?: string }
  >,
): Promise<void> {
  const withFiles = agents.filter((a) => a.spec?.owned_files.length);
  if (withFiles.length === 0) return;
  const { brokerClient, replyText } = await import("../broker/client.ts");
  const { agentKeyFiles } = await import("./common.ts");
  const { readKeyFile } = await import("../coord/credentials.ts");
  const keyFiles = await agentKeyFiles(
    withFiles.flatMap((a) => a.worktree_path ? [a.worktree_path] : []),
  );
  await Promise.all(withFiles.map(async (a) => {
    const id = slugify(a.branch);
    // Published as the agent: with its key.
    const file = a.worktree_path ? keyFiles.get(a.worktree_path) : undefined;
    const key = file ? (await readKeyFile(file))?.key : undefined;
    const client = brokerClient(brokerUrl, {
      token,
      ...(key ? { agentKey: key } : {}),
    });
    try {
      const r = await client.publish({
        type: "agent.intent",
        agent_id: id,
        payload: {
          files: a.spec!.owned_files,
          summary: `owned files of spec ${a.spec!.id}`,
          valid_for_seconds: SPEC_INTENT_SECONDS,
        },
      });
      if (!r.ok) {
        eprintln(
          `warning: the broker refused the owned files of ${id}: ${
            replyText(r)
          }`,
        );
      }
    } catch (e) {
      eprintln(
        `warning: could not publish the owned files of ${id}: ${
          (e as Error).message
        }`,
      );
    }
  }));
}
