/**
 * MCP tools over git and the working tree: branches, recent commits,
 * diffs, file listing, reading and searching. The working tree is tracked
 * plus untracked-but-not-ignored files; ignored files and anything outside
 * the repo root (by `..`, an absolute path or a symlink) are never read.
 * Git runs with argv arrays and `--end-of-options` before caller-supplied
 * revisions. Needs `--allow-run=git`, `--allow-read`.
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import { z } from "zod";
import { gitTry } from "../adapters/git_run.ts";
import { defaultBranch, worktreeList } from "../adapters/git.ts";
import { confine } from "./_confine.ts";
import type { McpContext } from "./context.ts";
import { defineTool, type ToolDef } from "./tool.ts";

/** Largest file `read_file` returns (bytes). */
const READ_FILE_MAX_BYTES = 2 * 1024 * 1024;

/** Most matches `search_code` returns before it says `truncated`. */
const SEARCH_MATCH_CAP = 200;

async function git(ctx: McpContext, args: string[]): Promise<string | null> {
  const r = await gitTry(ctx.root, args);
  return r.code === 0 ? r.stdout : null;
}

function nulFields(out: string | null): string[] {
  return (out ?? "").split("\0").filter((s) => s !== "");
}

async function branches(ctx: McpContext) {
  const inLinked = new Set<string>();
  try {
    for (const w of await worktreeList(ctx.root)) {
      if (!w.main && w.branch) inLinked.add(w.branch);
    }
  } catch { /* no worktree list: no flags */ }
  const out = await git(ctx, [
    "for-each-ref",
    "--format=%(HEAD)%00%(refname:short)%00%(objectname)",
    "refs/heads",
  ]);
  return (out ?? "").split("\n").filter((l) => l !== "").map((line) => {
    const [head, name = "", sha = ""] = line.split("\0");
    return {
      name,
      head: sha,
      current: head?.trim() === "*",
      worktree: inLinked.has(name),
    };
  });
}

/** Paths of `git ls-files` output (`-z`), deduplicated, in git's order. */
function uniquePaths(out: string | null): string[] {
  return [...new Set(nulFields(out))];
}

/** True when git ignores one of `paths`, or cannot say (fail closed). */
async function isIgnored(ctx: McpContext, paths: string[]): Promise<boolean> {
  const r = await gitTry(ctx.root, ["check-ignore", "--", ...paths]);
  return r.code !== 1;
}

/** The git and source tools. */
export const SOURCE_TOOLS: ToolDef[] = [
  defineTool("get_branches", {
    description:
      "Local branches: name, head sha, current (checked out in the main checkout), worktree (checked out in a linked worktree).",
    input: {},
    run: async (ctx) => ({ branches: await branches(ctx) }),
  }),
  defineTool("get_recent_commits", {
    description:
      "Up to `limit` (default 20) commits of `branch`, newest first: sha, author, timestamp (ISO 8601), subject.",
    input: {
      branch: z.string(),
      limit: z.number().int().min(1).max(1000).default(20),
    },
    run: async (ctx, a) => {
      const out = await git(ctx, [
        "log",
        `-${a.limit}`,
        "--format=%H%x1f%an%x1f%aI%x1f%s%x00",
        "--end-of-options",
        a.branch,
        "--",
      ]);
      const commits = nulFields(out).map((rec) => rec.trim()).filter((rec) =>
        rec !== ""
      ).map((rec) => {
        const [sha = "", author = "", timestamp = "", subject = ""] = rec
          .split("\x1f");
        return { sha, author, timestamp, subject };
      });
      return { commits };
    },
  }),
  defineTool("get_diff", {
    description:
      "The diff of `branch` against `base` (default: the repo's default branch) since their merge base, with files_changed, insertions and deletions.",
    input: { branch: z.string(), base: z.string().optional() },
    run: async (ctx, a) => {
      const base = a.base ?? await defaultBranch(ctx.root);
      const range = `${base}...${a.branch}`;
      const diff = await git(ctx, ["diff", "--end-of-options", range, "--"]) ??
        "";
      let files = 0, insertions = 0, deletions = 0;
      const stat = await git(ctx, [
        "diff",
        "--numstat",
        "--end-of-options",
        range,
        "--",
      ]);
      for (const line of (stat ?? "").split("\n")) {
        if (line === "") continue;
        const [add, del] = line.split("\t");
        files++;
        insertions += Number(add) || 0;
        deletions += Number(del) || 0;
      }
      return {
        base,
        branch: a.branch,
        diff,
        files_changed: files,
        insertions,
        deletions,
      };
    },
  }),
  defineTool("list_files", {
    description:
      "Working-tree files (tracked plus untracked, never ignored ones), relative to the repo root, optionally under `subpath`.",
    input: { subpath: z.string().optional() },
    run: async (ctx, a) => {
      const args = [
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
      ];
      if (a.subpath !== undefined) {
        const c = await confine(ctx.root, a.subpath);
        if (!c.ok) return { files: [] };
        args.push("--", c.rel === "" ? "." : c.rel);
      }
      return { files: uniquePaths(await git(ctx, args)) };
    },
  }),
  defineTool("read_file", {
    description:
      `One working-tree file by its path relative to the repo root. Refused (null content and a message): paths leading outside the root (\`..\`, absolute paths, symlinks), ignored files, the .git directory, and files over ${READ_FILE_MAX_BYTES} bytes.`,
    input: { path: z.string() },
    run: async (ctx, a) => {
      const refuse = (message: string) => ({ content: null, message });
      const c = await confine(ctx.root, a.path);
      if (!c.ok) {
        return refuse(
          c.reason === "outside"
            ? `path ${
              JSON.stringify(a.path)
            } resolves outside the repository root and was refused`
            : `file not found in the repository: ${JSON.stringify(a.path)}`,
        );
      }
      const parts = c.rel.split(/[\\/]/);
      if (parts.includes(".git")) {
        return refuse(
          `path ${JSON.stringify(a.path)} is inside .git and was refused`,
        );
      }
      // Ask about the name given and the file it resolves to (a link to an
      // ignored file, or an ignored link, are both refused).
      const lexical = relative(ctx.root, resolve(ctx.root, a.path));
      const names = lexical.startsWith("..") || isAbsolute(lexical)
        ? [c.rel]
        : [lexical, c.rel];
      if (c.rel === "" || await isIgnored(ctx, names)) {
        return refuse(
          c.rel === ""
            ? `path ${JSON.stringify(a.path)} is a directory`
            : `path ${
              JSON.stringify(a.path)
            } is ignored by git and was refused`,
        );
      }
      const st = await Deno.stat(c.real);
      if (!st.isFile) {
        return refuse(`path ${JSON.stringify(a.path)} is not a regular file`);
      }
      if (st.size > READ_FILE_MAX_BYTES) {
        return refuse(
          `file ${
            JSON.stringify(a.path)
          } has ${st.size} bytes, more than read_file returns (${READ_FILE_MAX_BYTES}); use search_code`,
        );
      }
      return { content: await Deno.readTextFile(c.real) };
    },
  }),
  defineTool("search_code", {
    description:
      `Search the working tree (tracked plus untracked, not ignored, binaries skipped) for a pattern (git grep basic regex), optionally under \`subpath\`: matches {path, line_number, line}, at most ${SEARCH_MATCH_CAP}, with \`truncated\`.`,
    input: { query: z.string().min(1), subpath: z.string().optional() },
    run: async (ctx, a) => {
      const args = [
        "grep",
        "-n",
        "-I",
        "-z",
        "--no-color",
        "--untracked",
        "-e",
        a.query,
      ];
      if (a.subpath !== undefined) {
        const c = await confine(ctx.root, a.subpath);
        if (!c.ok) return { matches: [], truncated: false };
        args.push("--", c.rel === "" ? "." : c.rel);
      }
      const out = await git(ctx, args);
      const matches: Array<
        { path: string; line_number: number; line: string }
      > = [];
      let truncated = false;
      for (const rec of (out ?? "").split("\n")) {
        if (rec === "") continue;
        const [path, num, ...rest] = rec.split("\0");
        const n = Number(num);
        if (!path || !Number.isInteger(n)) continue;
        if (matches.length >= SEARCH_MATCH_CAP) {
          truncated = true;
          break;
        }
        matches.push({ path, line_number: n, line: rest.join("\0") });
      }
      return { matches, truncated };
    },
  }),
];
