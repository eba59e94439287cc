/** `deno task install` puts `git-paw` on PATH so `git paw …` works. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IDENTITY, initRepo } from "./e2e_helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dec = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
) {
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

Deno.test("deno task install puts git-paw on PATH and `git paw` runs it", async () => {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "pawinst" }),
  );
  try {
    const env = {
      ...IDENTITY,
      DENO_INSTALL_ROOT: join(root, "install"),
      XDG_DATA_HOME: join(root, "data"),
      XDG_CONFIG_HOME: join(root, "config"),
      TMUX_TMPDIR: root,
    };
    const inst = await run(Deno.execPath(), ["task", "install"], ROOT, env);
    assert.equal(inst.code, 0, inst.err);
    const bin = join(root, "install", "bin");
    const pathEnv = {
      ...env,
      PATH: `${bin}:${Deno.env.get("PATH") ?? ""}`,
    };
    const repo = join(root, "repo");
    await initRepo(repo, pathEnv);
    const v = await run("git", ["paw", "--version"], repo, pathEnv);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /\d+\.\d+\.\d+/);
    const s = await run("git", ["paw", "status"], repo, pathEnv);
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out.trim(), "No session for this repo.");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
