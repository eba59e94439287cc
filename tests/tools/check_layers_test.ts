import assert from "node:assert/strict";
import { checkModule, importsOf, layerOf } from "../../tools/check_layers.ts";

Deno.test("layerOf() names the layer of each area and the entry layer", () => {
  assert.equal(layerOf("main.ts"), "entry");
  assert.equal(layerOf("lib/cli/program.ts"), "entry");
  assert.equal(layerOf("lib/core/messages.ts"), "core");
  assert.equal(layerOf("lib/adapters/git.ts"), "adapters");
  assert.equal(layerOf("lib/output.ts"), "leaf");
  assert.equal(layerOf("lib/session/start.ts"), "session");
});

Deno.test("importsOf() finds static, re-exported, dynamic and bare imports", () => {
  const src = [
    'import { a } from "./a.ts";',
    "import type {",
    "  B,",
    '} from "../b/b.ts";',
    'export { c } from "./c.ts";',
    'const d = await import("../d/d.ts");',
    'import "./e.ts";',
    '/* import { x } from "./commented.ts"; */',
  ].join("\n");
  assert.deepEqual(importsOf(src).map((i) => i.spec), [
    "./a.ts",
    "../b/b.ts",
    "./c.ts",
    "../d/d.ts",
    "./e.ts",
  ]);
});

Deno.test("checkModule() refuses a subprocess outside lib/adapters", () => {
  const src = 'const o = await new Deno.Command("git", { args: [] }).output();';
  assert.equal(checkModule("lib/coord/x.ts", src).length, 1);
  assert.match(
    checkModule("lib/coord/x.ts", src)[0]!,
    /subprocess outside lib\/adapters/,
  );
  assert.deepEqual(checkModule("lib/adapters/x.ts", src), []);
  assert.equal(
    checkModule(
      "lib/session/x.ts",
      'import { spawn } from "node:child_process";',
    ).length,
    1,
  );
});

Deno.test("checkModule() keeps lib/core pure and self-contained", () => {
  assert.match(
    checkModule(
      "lib/core/x.ts",
      'import type { Broker } from "../broker/api.ts";',
    )[0]!,
    /core may not import broker/,
  );
  assert.match(
    checkModule("lib/core/x.ts", "const t = Date.now();")[0]!,
    /Date\.now/,
  );
  assert.deepEqual(
    checkModule(
      "lib/core/x.ts",
      'import { z } from "zod";\nimport { y } from "./y.ts";',
    ),
    [],
  );
});

Deno.test("checkModule() refuses another folder's _private module", () => {
  assert.match(
    checkModule(
      "lib/session/x.ts",
      'import { g } from "../coord/_git.ts";',
    )[0]!,
    /private module of another folder/,
  );
  assert.deepEqual(
    checkModule("lib/coord/x.ts", 'import { g } from "./_git.ts";'),
    [],
  );
});

Deno.test("checkModule() refuses upward imports: broker → dashboard, any area → entry", () => {
  assert.match(
    checkModule(
      "lib/broker/cli.ts",
      'const w = await import("../dashboard/web.ts");',
    )[0]!,
    /broker may not import dashboard/,
  );
  assert.match(
    checkModule(
      "lib/session/x.ts",
      'import { p } from "../cli/program.ts";',
    )[0]!,
    /entry layer/,
  );
  assert.match(
    checkModule(
      "lib/coord/x.ts",
      'import { s } from "../session/start.ts";',
    )[0]!,
    /coord may not import session/,
  );
  assert.deepEqual(
    checkModule(
      "lib/session/x.ts",
      'import { b } from "../broker/client.ts";\nimport { c } from "../coord/helper.ts";',
    ),
    [],
  );
});

Deno.test("the checkout passes its own layer check (docs/ARCHITECTURE.md)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-R",
      new URL("../../tools/check_layers.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /layers ok: \d+ modules/);
});

Deno.test("checkModule() lets the MCP area use core, adapters, broker and coord, not the session or dashboard areas; the entry layer may import it", () => {
  assert.equal(layerOf("lib/mcp/server.ts"), "mcp");
  assert.deepEqual(
    checkModule(
      "lib/mcp/x.ts",
      [
        'import { a } from "../core/specs.ts";',
        'import { b } from "../adapters/git.ts";',
        'import { c } from "../coord/helper.ts";',
        'import { d } from "../output.ts";',
      ].join("\n"),
    ),
    [],
  );
  assert.match(
    checkModule(
      "lib/mcp/x.ts",
      'import { r } from "../session/receipt.ts";',
    )[0]!,
    /mcp may not import session/,
  );
  assert.match(
    checkModule(
      "lib/mcp/x.ts",
      'const t = await import("../dashboard/tui.ts");',
    )[0]!,
    /mcp may not import dashboard/,
  );
  assert.match(
    checkModule("lib/coord/x.ts", 'import { s } from "../mcp/server.ts";')[0]!,
    /coord may not import mcp/,
  );
  assert.deepEqual(
    checkModule("lib/cli/program.ts", 'import { m } from "../mcp/cli.ts";'),
    [],
  );
});
