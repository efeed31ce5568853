// Starts a fedid for a test file: the binary named by FEDID_BIN, or one
// built from this repository into a temporary directory; a temporary
// SQLite database; 127.0.0.1:0, the bound address read from fedid's
// "fedid serving addr=..." log line on stderr.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { CognitoIdentityClient } from "@aws-sdk/client-cognito-identity";
import { STSClient } from "@aws-sdk/client-sts";

export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";
// With no access key configured and a loopback address fedid accepts
// these, for account 000000000000. A function: the SDK marks the
// credentials object it is given, so each client gets its own.
export const testCredentials = () => ({ accessKeyId: "test", secretAccessKey: "test" });

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function buildFedid(dir) {
  const out = path.join(dir, "fedid");
  execFileSync("go", ["build", "-o", out, "./cmd/fedid"], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      PATH: `${process.env.PATH}:/usr/local/go/bin`,
      GOFLAGS: process.env.GOFLAGS ?? "-buildvcs=false",
    },
  });
  return out;
}

const SERVING = /msg="fedid serving" addr=(127\.0\.0\.1:\d+)/;

/**
 * startFedid starts fedid and resolves once it serves. The result's
 * stop() kills it and removes the temporary directory.
 */
export async function startFedid({ timeoutMs = 60_000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "fedid-js-"));
  const bin = process.env.FEDID_BIN || buildFedid(dir);
  const env = { ...process.env };
  // The test credentials are only offered when no access key is set.
  delete env.FEDID_ACCESS_KEY_ID;
  delete env.FEDID_SECRET_ACCESS_KEY;
  const child = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--db", path.join(dir, "fedid.db")], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
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
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`fedid exited (${code ?? signal}) before serving:\n${log}`));
    });
  });
  // Keep draining stderr so fedid never blocks on a full pipe.
  child.stderr.resume();
  const endpoint = `http://${addr}`;
  return {
    endpoint,
    region: REGION,
    clientConfig: { region: REGION, endpoint },
    log: () => log,
    /** A Cognito Identity client signed with test/test (the back end's). */
    admin: () => new CognitoIdentityClient({ region: REGION, endpoint, credentials: testCredentials() }),
    /** An STS client pointed at fedid, signing with the given credentials. */
    sts: (credentials) => new STSClient({ region: REGION, endpoint, credentials }),
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

/**
 * roleUserId is the UserId fedid's GetCallerIdentity gives credentials of
 * an assumed role: "AROA" + the first 17 characters of the base32 of the
 * SHA-256 of "<account>:assumed-role/<role>", ":" and the session name.
 */
export function roleUserId(account, roleName, session = "CognitoIdentityCredentials") {
  const sum = createHash("sha256").update(`${account}:assumed-role/${roleName}`).digest();
  return `AROA${base32(sum).slice(0, 17)}:${session}`;
}

function base32(buf) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

export const IDENTITY_ID = /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uniqueName = (prefix) => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
