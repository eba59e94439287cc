import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { parse } from "smol-toml";
import {
  configTemplate,
  GITIGNORE_LINES,
  initRepo,
} from "../../lib/session/init.ts";
import { validateConfig } from "../../lib/core/config.ts";
import { makeRepo, tempDir } from "./git_fixture.ts";

function plain(text: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(parse(text)));
}

function collector() {
  const out: string[] = [];
  return {
    out,
    io: {
      out: (l: string) => out.push(l),
      err: (l: string) => out.push(`E:${l}`),
    },
  };
}

Deno.test("configTemplate() is valid TOML that passes the schema", () => {
  for (const speckit of [false, true]) {
    const r = validateConfig(parse(configTemplate({ speckit })), "template");
    assert.equal(r.ok, true, JSON.stringify(r));
  }
});

Deno.test("initRepo() creates .git-paw, a config and .gitignore lines, then is a no-op", async () => {
  await using r = await makeRepo();
  await Deno.writeTextFile(
    join(r.repo, ".gitignore"),
    "node_modules/\n.git-paw/logs/",
  );
  const c1 = collector();
  const res = await initRepo({ cwd: r.repo, io: c1.io });
  assert.deepEqual(res.created, [
    ".git-paw/",
    ".git-paw/logs/",
    ".git-paw/tmp/",
    ".git-paw/config.toml",
  ]);
  assert.deepEqual(res.updated, [".gitignore"]);
  assert.equal(c1.out.at(-1), "Initialized git-paw.");
  assert.ok(c1.out.includes("  Created .git-paw/config.toml"));
  const gi = (await Deno.readTextFile(join(r.repo, ".gitignore"))).split("\n");
  for (const l of GITIGNORE_LINES) {
    assert.equal(gi.filter((x) => x === l).length, 1, l);
  }
  assert.equal(gi[0], "node_modules/");
  assert.equal(existsSync(join(r.repo, ".git-paw", "scripts")), false);
  const cfg = plain(
    await Deno.readTextFile(join(r.repo, ".git-paw", "config.toml")),
  );
  assert.deepEqual(cfg, { supervisor: { enabled: false } });
  const c2 = collector();
  const again = await initRepo({ cwd: r.repo, io: c2.io });
  assert.deepEqual(again, { created: [], updated: [] });
  assert.deepEqual(c2.out, ["Already initialized. Nothing to do."]);
});

Deno.test("initRepo() appends [supervisor] to an existing config and detects speckit", async () => {
  await using r = await makeRepo();
  await Deno.mkdir(join(r.repo, ".git-paw"));
  await Deno.writeTextFile(
    join(r.repo, ".git-paw", "config.toml"),
    `default_cli = "claude"\n# [supervisor]\n`,
  );
  const res = await initRepo({ cwd: r.repo, io: collector().io });
  assert.ok(res.updated.includes(".git-paw/config.toml"));
  const cfg = plain(
    await Deno.readTextFile(join(r.repo, ".git-paw", "config.toml")),
  );
  assert.deepEqual(cfg, {
    default_cli: "claude",
    supervisor: { enabled: false },
  });

  await using s = await makeRepo();
  await Deno.mkdir(join(s.repo, ".specify", "specs"), { recursive: true });
  await initRepo({ cwd: s.repo, io: collector().io });
  const sc = plain(
    await Deno.readTextFile(join(s.repo, ".git-paw", "config.toml")),
  );
  assert.deepEqual(sc.specs, { dir: ".specify/specs", type: "speckit" });
});

Deno.test("initRepo() outside a repo fails and creates nothing", async () => {
  await using d = await tempDir();
  await assert.rejects(
    () => initRepo({ cwd: d.path, io: collector().io }),
    /Not a git repository/,
  );
  assert.equal(existsSync(join(d.path, ".git-paw")), false);
});
