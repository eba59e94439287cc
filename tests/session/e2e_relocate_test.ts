/**
 * The session's port looks free when `start` picks it but pane 0 cannot
 * bind it (a socket bound without listening: connects are refused, binds
 * fail). Pane 0 reports the port taken, `start` moves the broker to
 * another port and only then launches the agents, all with the new URL.
 */
import assert from "node:assert/strict";
import { freePort, makeWorld, statusJson, waitFor } from "./e2e_helpers.ts";

/** Bind 127.0.0.1:`port` without listening (libc through FFI). */
function bindWithoutListening(port: number): { close(): void } {
  const libc = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const fd = libc.symbols.socket(2, /* AF_INET */ 1, /* SOCK_STREAM */ 0);
  assert.ok(fd >= 0, "socket() failed");
  const addr = new Uint8Array(16); // struct sockaddr_in
  new DataView(addr.buffer).setUint16(0, 2, true); // sin_family, host order
  new DataView(addr.buffer).setUint16(2, port, false); // sin_port, network order
  addr.set([127, 0, 0, 1], 4);
  assert.equal(libc.symbols.bind(fd, addr, 16), 0, "bind() failed");
  return {
    close() {
      libc.symbols.close(fd);
      libc.close();
    },
  };
}

Deno.test("git paw start moves the broker when its port cannot be bound, before any agent starts", async () => {
  await using w = await makeWorld({ project: "moved" });
  const port = freePort();
  const holder = bindWithoutListening(port);
  try {
    // Connects are refused: start's port check sees a free port.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/status`), TypeError);
    await w.writeConfig(`[broker]\nport = ${port}\n`);
    const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `http://127\\.0\\.0\\.1:${port} is served by another session or program; this session's broker moves to http://127\\.0\\.0\\.1:\\d+`,
      ),
    );
    const s = await statusJson(w);
    const moved = new URL(s.broker_url!);
    assert.notEqual(Number(moved.port), port);
    // The agent pane was started with the new URL, and its agent reached
    // the session's broker there.
    const env = await w.tmux([
      "show-environment",
      "-t",
      "=paw-moved",
      "GIT_PAW_BROKER_URL",
    ]);
    assert.equal(env.stdout.trim(), `GIT_PAW_BROKER_URL=${s.broker_url}`);
    // The agent pane opens while pane 0 binds: it was started again with
    // the moved URL (its process environment says so).
    const panes = await w.tmux([
      "list-panes",
      "-t",
      "=paw-moved:",
      "-F",
      "#{pane_pid} #{@paw_agent}",
    ]);
    const pid = panes.stdout.split("\n").find((l) => l.endsWith(" feat-a"))
      ?.split(" ")[0];
    assert.ok(pid, panes.stdout);
    const environ = (await Deno.readTextFile(`/proc/${pid}/environ`))
      .split("\0");
    assert.ok(
      environ.includes(`GIT_PAW_BROKER_URL=${s.broker_url}`),
      environ.filter((e) => e.startsWith("GIT_PAW_BROKER_URL")).join(" "),
    );
    await waitFor("the demo agent at the moved broker", async () => {
      const res = await fetch(`${s.broker_url}/status`);
      const doc = await res.json() as {
        session: string;
        agents: Array<{ agent_id: string }>;
      };
      return doc.session === "paw-moved" &&
        doc.agents.some((a) => a.agent_id === "feat-a");
    });
  } finally {
    holder.close();
  }
});
