/**
 * Test helpers for the Sessions-core tests: throwaway git repos in temp dirs
 * with a local identity, so tests pass on machines without a global one.
 * @module
 */
import { join } from "node:path";
import {
  makeRepo as makeTempRepo,
  type TempDir,
  tempDir,
} from "../_helpers/repo.ts";

/** Identity for commits made by tests and by subprocesses they start. */
export const GIT_IDENTITY_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "paw test",
  GIT_AUTHOR_EMAIL: "paw@test.invalid",
  GIT_COMMITTER_NAME: "paw test",
  GIT_COMMITTER_EMAIL: "paw@test.invalid",
};

const dec = new TextDecoder();

/** Run git in `cwd`, throwing with stderr on failure; returns trimmed stdout. */
export async function sh(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_IDENTITY_ENV,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (out.code !== 0) {
    throw new Error(`git ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout).trim();
}

export { type TempDir, tempDir };

/** Options for {@link makeRepo}. */
export type MakeRepoOptions = {
  /** Initial branch (default `main`). */
  branch?: string;
  /** Directory name of the repo inside the temp dir (default `proj`). */
  name?: string;
  /** Skip the first commit. */
  empty?: boolean;
};

/**
 * Create `<tmp>/<name>` as a git repo with a local identity and one commit
 * (`README.md`). Returns the temp dir (dispose it) and the repo path.
 */
export async function makeRepo(
  opts: MakeRepoOptions = {},
): Promise<TempDir & { repo: string }> {
  const t = await makeTempRepo({
    ...opts,
    message: "initial",
    localIdentity: true,
  });
  return Object.assign(t, { path: t.root });
}

/** Write `text` to `<dir>/<file>` and commit it with `msg`. */
export async function commitFile(
  dir: string,
  file: string,
  text: string,
  msg = `edit ${file}`,
): Promise<string> {
  await Deno.writeTextFile(join(dir, file), text);
  await sh(dir, "add", "--", file);
  await sh(dir, "commit", "-q", "-m", msg);
  return await sh(dir, "rev-parse", "HEAD");
}
