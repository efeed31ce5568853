// The SDK in a browser: a page served from one origin gets guest
// credentials from fedid on another, through CORS. The page's script is
// bundled by esbuild; Chromium runs headless through puppeteer-core.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import puppeteer from "puppeteer-core";
import {
  CreateIdentityPoolCommand,
  SetIdentityPoolRolesCommand,
  DescribeIdentityCommand,
  ListIdentitiesCommand,
} from "@aws-sdk/client-cognito-identity";
import { startFedid, ACCOUNT, IDENTITY_ID, uniqueName } from "./lib/fedid.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const SCREENSHOT = path.join(here, "artifacts", "browser-guest.png");

let fedid;
let admin;
let site;
let browser;

before(async () => {
  fedid = await startFedid();
  admin = fedid.admin();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  admin?.destroy();
  await fedid?.stop();
});

// serveSite serves the page (with the pool and fedid's endpoint in it) and
// the bundle on 127.0.0.1, another port than fedid's: another origin.
async function serveSite(config) {
  const built = await esbuild.build({
    entryPoints: [path.join(here, "browser", "entry.js")],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2020",
    minify: true,
    write: false,
    logLevel: "silent",
    // @aws-sdk/credential-providers names its browser entry in the
    // package.json "browser" map as "./dist-es/index", without the ".js"
    // of its "module" field; esbuild matches the map's keys exactly, so it
    // would bundle the Node entry (node:fs, node:child_process...). Name
    // the browser entry, as webpack's resolution of that map does.
    alias: { "@aws-sdk/credential-providers": "@aws-sdk/credential-providers/dist-es/index.browser.js" },
  });
  const bundle = built.outputFiles[0].contents;
  const html = readFileSync(path.join(here, "browser", "page.html"), "utf8")
    .replace("__CONFIG__", JSON.stringify(config).replaceAll("<", "\\u003c"))
    .replace("__POOL__", config.identityPoolId);
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(html);
    } else if (req.method === "GET" && req.url === "/bundle.js") {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
      res.end(bundle);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}`, bundleBytes: bundle.length };
}

test("a page on another origin gets guest credentials from fedid (CORS)", { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  const pool = await admin.send(new CreateIdentityPoolCommand({ IdentityPoolName: uniqueName("browser"), AllowUnauthenticatedIdentities: true }));
  await admin.send(
    new SetIdentityPoolRolesCommand({
      IdentityPoolId: pool.IdentityPoolId,
      Roles: { unauthenticated: `arn:aws:iam::${ACCOUNT}:role/Cognito_browserUnauth_Role` },
    }),
  );
  const config = { identityPoolId: pool.IdentityPoolId, region: fedid.region, endpoint: fedid.endpoint };
  const served = await serveSite(config);
  site = served.server;
  assert.notEqual(new URL(served.origin).origin, new URL(fedid.endpoint).origin, "the page and fedid are different origins");

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 760, height: 300 });
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  // Chromium reports a fetch whose body the page read through a stream
  // reader (as the SDK does) as failed with net::ERR_ABORTED, after its
  // response came, when the response says Cache-Control: no-store (as
  // fedid's API answers do: they hold credentials). The page has the whole
  // body by then; such requests are counted apart, and every other failure
  // fails the test.
  const abortedAfterResponse = [];
  page.on("requestfailed", (req) => {
    const res = req.response();
    const what = `${req.method()} ${req.url()} ${req.headers()["x-amz-target"] ?? ""}`;
    if (req.failure()?.errorText === "net::ERR_ABORTED" && res?.status() === 200 && res.headers()["cache-control"] === "no-store") {
      abortedAfterResponse.push(what);
      return;
    }
    problems.push(`request failed: ${what} (response ${res?.status() ?? "none"}): ${req.failure()?.errorText}`);
  });
  const fedidResponses = [];
  page.on("response", (res) => {
    if (res.url().startsWith(fedid.endpoint)) {
      fedidResponses.push({
        method: res.request().method(),
        status: res.status(),
        target: res.request().headers()["x-amz-target"],
        allowOrigin: res.headers()["access-control-allow-origin"],
      });
    }
  });

  await page.goto(`${served.origin}/`, { waitUntil: "load" });
  await page.waitForSelector('#status:not([data-state="pending"])', { timeout: 30_000 });
  const shown = await page.evaluate(() => ({
    state: document.getElementById("status").dataset.state,
    status: document.getElementById("status").textContent,
    identityId: document.getElementById("identity-id").textContent,
    accessKeyId: document.getElementById("access-key-id").textContent,
    origin: location.origin,
  }));
  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  for (const what of abortedAfterResponse) t.diagnostic(`reported aborted after its no-store response: ${what}`);
  assert.deepEqual(problems, [], "no console errors, page errors or failed requests");
  assert.equal(shown.state, "done", shown.status);
  assert.equal(shown.origin, served.origin);
  assert.match(shown.identityId, IDENTITY_ID);
  assert.match(shown.accessKeyId, /^ASIA[A-Z0-9]{16}$/);

  // The calls went to fedid, cross-origin, and were let through.
  const posts = fedidResponses.filter((r) => r.method === "POST");
  assert.deepEqual(
    posts.map((r) => [r.target, r.status, r.allowOrigin]),
    [
      ["AWSCognitoIdentityService.GetId", 200, "*"],
      ["AWSCognitoIdentityService.GetCredentialsForIdentity", 200, "*"],
    ],
  );

  // The identity the page shows is fedid's.
  const described = await admin.send(new DescribeIdentityCommand({ IdentityId: shown.identityId }));
  assert.equal(described.IdentityId, shown.identityId);
  const listed = await admin.send(new ListIdentitiesCommand({ IdentityPoolId: pool.IdentityPoolId, MaxResults: 10 }));
  assert.deepEqual(listed.Identities.map((i) => i.IdentityId), [shown.identityId]);
});
