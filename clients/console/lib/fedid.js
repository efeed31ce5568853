// Starts a fedid for the console's tests: the binary named by FEDID_BIN, or
// one built from this repository; --dev (test/test accepted) beside a
// stored access key given in the environment; a temporary SQLite database
// on 127.0.0.1:0, the bound address read from the "fedid serving" log line.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SERVING = /msg="fedid serving" addr=(127\.0\.0\.1:\d+)/;

export const KEY_ID = "AKIACONSOLETEST00001";
export const SECRET = "console-secret-console-secret-console-00";

export async function startFedid({ timeoutMs = 120_000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "fedid-console-"));
  let bin = process.env.FEDID_BIN;
  if (!bin) {
    bin = path.join(dir, "fedid");
    execFileSync("go", ["build", "-o", bin, "./cmd/fedid"], {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin`, GOFLAGS: process.env.GOFLAGS ?? "-buildvcs=false" },
    });
  }
  const env = { ...process.env, FEDID_ACCESS_KEY_ID: KEY_ID, FEDID_SECRET_ACCESS_KEY: SECRET, FEDID_ACCOUNT_ID: "000000000000" };
  const child = spawn(bin, ["serve", "--dev", "--addr", "127.0.0.1:0", "--db", path.join(dir, "fedid.db")], { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fedid did not start in ${timeoutMs} ms:\n${log}`)), timeoutMs);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const m = SERVING.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("error", (err) => (clearTimeout(timer), reject(err)));
    child.on("exit", (code, signal) => (clearTimeout(timer), reject(new Error(`fedid exited (${code ?? signal}) before serving:\n${log}`))));
  });
  child.stderr.resume();
  return {
    endpoint: `http://${addr}`,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
