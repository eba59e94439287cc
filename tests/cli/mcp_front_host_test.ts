/**
 * The MCP fast start's config paths (lib/cli/mcp_front_host.ts, without
 * `node:path`) are lib/session/config_paths.ts's, or it leaves the call to
 * the full start.
 */
import assert from "node:assert/strict";
import { plainConfigPaths } from "../../lib/cli/mcp_front_host.ts";
import {
  globalConfigPath,
  repoConfigPath,
} from "../../lib/session/config_paths.ts";

Deno.test("plainConfigPaths() finds the paths config_paths finds, or throws", () => {
  const envs: Array<Record<string, string>> = [
    { HOME: "/home/u" },
    { HOME: "/home/u/" },
    { HOME: "/home//u/./x/.." },
    { HOME: "/home/u", XDG_CONFIG_HOME: "/xdg/" },
    { HOME: "/home/u", XDG_CONFIG_HOME: "relative/xdg" },
    { HOME: "/home/u", XDG_CONFIG_HOME: "" },
    { USERPROFILE: "/profile" },
    { HOME: "/", XDG_CONFIG_HOME: "/.." },
    // Not plain: the full start decides (and words the error).
    { HOME: "relative" },
    {},
  ];
  const repos = ["/r/repo", "/r/repo/", "/r/./a/../repo", "relative/repo"];
  let plain = 0;
  for (const e of envs) {
    for (const repo of repos) {
      const env = (n: string) => e[n];
      let want: string[] | null;
      try {
        want = [globalConfigPath(env), repoConfigPath(repo)];
      } catch {
        want = null;
      }
      let got: string[] | null;
      try {
        got = plainConfigPaths(repo, env);
      } catch {
        got = null;
      }
      const what = `${JSON.stringify(e)} ${repo}`;
      if (got === null) {
        assert.ok(
          want === null || !repo.startsWith("/") ||
            !want[0]!.startsWith("/"),
          `plain refused a plain case: ${what}`,
        );
        continue;
      }
      plain++;
      assert.deepEqual(got, want, what);
    }
  }
  assert.equal(plain, 8 * 3);
});
