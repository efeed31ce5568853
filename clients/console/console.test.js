// The admin console in headless Chromium (puppeteer-core, /usr/bin/chromium)
// against a real fedid: a walk through every page, and sign-in refused
// without valid credentials. Screenshots go to artifacts/ (gitignored); any
// console error, page error or failed request of the page fails the walk.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { startFedid, KEY_ID, SECRET } from "./lib/fedid.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const ARTIFACTS = path.join(here, "artifacts");
const METADATA = path.join(here, "testdata", "idp-metadata.xml");
const ROLE_AUTH = "arn:aws:iam::000000000000:role/ConsoleAuth";
const ROLE_GUEST = "arn:aws:iam::000000000000:role/ConsoleGuest";
const ROLE_RULE = "arn:aws:iam::000000000000:role/ExampleStaff";
const USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Console1";
const SAML_ARN = "arn:aws:iam::000000000000:saml-provider/ConsoleCorp";

let fedid;
let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  fedid = await startFedid();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--force-prefers-reduced-motion"],
  });
});

after(async () => {
  await browser?.close();
  await fedid?.stop();
});

/** open starts a page that records every problem: console errors, page errors, failed requests. */
async function open(viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  return { page, problems };
}

/** ready waits until the console has rendered the page of a hash starting with prefix. */
async function ready(page, prefix) {
  await page.waitForFunction((p) => (document.getElementById("view")?.dataset.ready || "").startsWith(p), { timeout: 20_000 }, prefix);
}

async function nav(page, hash) {
  await page.evaluate((h) => (location.hash = h), hash);
  await ready(page, hash.split("?")[0]);
}

async function fill(page, selector, text) {
  await page.$eval(selector, (el) => (el.value = ""));
  await page.type(selector, text);
}

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
const text = (page, selector) => page.$eval(selector, (el) => el.textContent);

test("the console: sign in, pools, tokens, identities, credentials, keys, live, sign out", { timeout: 240_000 }, async () => {
  const { page, problems } = await open();
  await page.goto(`${fedid.endpoint}/console/`, { waitUntil: "load" });
  await ready(page, "#/sign-in");
  // --dev: test/test offered and filled in.
  assert.match(await text(page, "#test-key-note"), /test \/ test/);
  assert.equal(await page.$eval("input[name=accessKeyId]", (e) => e.value), "test");
  await shot(page, "01-sign-in");
  await page.click("#sign-in button[type=submit]");
  await ready(page, "#/pools");

  // A pool with roles and a role mapping with a rule.
  await page.click("a[href='#/pools/new']");
  await ready(page, "#/pools/new");
  await fill(page, "input[name=name]", "console_demo");
  await page.click("input[name=guests]");
  await fill(page, "input[name=developerProvider]", "login.example");
  await fill(page, "textarea[name=loginProviders]", "accounts.google.com=app-123.apps.googleusercontent.com");
  await fill(page, "textarea[name=tags]", "team=blue");
  await fill(page, "textarea[name=samlArns]", SAML_ARN);
  await page.click("xpath/.//button[text()='Add user pool provider']");
  await fill(page, "input[name=cognitoProvider]", USER_POOL);
  await fill(page, "input[name=cognitoClient]", "consoleclient");
  await page.click("input[name=cognitoServerSide]");
  await fill(page, "input[name=authenticatedRole]", ROLE_AUTH);
  await fill(page, "input[name=unauthenticatedRole]", ROLE_GUEST);
  await page.click("xpath/.//button[text()='Add role mapping']");
  await fill(page, "input[name=mappingProvider]", "accounts.google.com");
  await page.click("xpath/.//button[text()='Add rule']");
  await fill(page, "input[name=claim]", "hd");
  await page.select("select[name=matchType]", "Equals");
  await fill(page, "input[name=value]", "example.com");
  await fill(page, "input[name=roleARN]", ROLE_RULE);
  await shot(page, "02-pool-new");
  await page.click("form.pool-form button[type=submit]");
  await page.waitForSelector(".flash");
  await ready(page, "#/pools/us-east-1");
  assert.equal(await text(page, ".flash"), "Pool created.");
  const poolId = await text(page, "#pool-id");
  // What fedid stored, read back through the API by the page.
  assert.equal(await page.$eval("input[name=mappingProvider]", (e) => e.value), "accounts.google.com");
  assert.equal(await page.$eval("input[name=roleARN]", (e) => e.value), ROLE_RULE);
  assert.equal(await page.$eval("input[name=authenticatedRole]", (e) => e.value), ROLE_AUTH);
  assert.equal(await page.$eval("textarea[name=tags]", (e) => e.value), "team=blue");
  assert.equal(await page.$eval("textarea[name=samlArns]", (e) => e.value), SAML_ARN);
  assert.equal(await page.$eval("input[name=cognitoProvider]", (e) => e.value), USER_POOL);
  assert.equal(await page.$eval("input[name=cognitoClient]", (e) => e.value), "consoleclient");
  assert.equal(await page.$eval("input[name=cognitoServerSide]", (e) => e.checked), true);
  // Principal tag maps, one per provider the pool trusts.
  const providers = await page.$$eval("fieldset.tag-map", (els) => els.map((e) => e.dataset.provider));
  assert.deepEqual(providers, ["accounts.google.com", USER_POOL, SAML_ARN]);
  const googleMap = "fieldset.tag-map[data-provider='accounts.google.com']";
  const userPoolMap = `fieldset.tag-map[data-provider='${USER_POOL}']`;
  await fill(page, `${googleMap} textarea[name=tagMap]`, "domain=hd\nmail=email");
  await page.click(`${userPoolMap} input[name=tagDefaults]`);
  await page.click("form.pool-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector(".flash")?.textContent === "Saved.", { timeout: 20_000 });
  await ready(page, "#/pools/us-east-1");
  assert.equal(await page.$eval(`${googleMap} textarea[name=tagMap]`, (e) => e.value), "domain=hd\nmail=email");
  assert.equal(await page.$eval(`${userPoolMap} input[name=tagDefaults]`, (e) => e.checked), true);
  assert.equal(await page.$eval(`${userPoolMap} textarea[name=tagMap]`, (e) => e.disabled), true);
  await shot(page, "03-pool");

  // The list, and search by name.
  await nav(page, "#/pools");
  await fill(page, "input[name=search]", "demo");
  await page.click("form[role=search] button[type=submit]");
  await page.waitForFunction(() => document.querySelector("tbody a")?.textContent === "console_demo");
  await shot(page, "04-pools");

  // Mint a token with a principal tag, see it verified against the JWKS.
  await nav(page, `#/tokens?pool=${encodeURIComponent(poolId)}&user=alice`);
  await fill(page, "textarea[name=principalTags]", "team=blue");
  await fill(page, "input[name=duration]", "900");
  await page.click("xpath/.//button[text()='Mint token']");
  await page.waitForSelector("#verify-result[data-ok]", { timeout: 20_000 });
  assert.equal(await page.$eval("#verify-result", (e) => e.dataset.ok), "true", await text(page, "#verify-result"));
  const claims = JSON.parse(await text(page, "#token-claims"));
  assert.equal(claims.aud, poolId);
  assert.deepEqual(claims["https://aws.amazon.com/tags"], { principal_tags: { team: ["blue"] } });
  assert.equal(JSON.parse(await text(page, "#token-header")).alg, "RS512");
  await shot(page, "05-tokens");

  // A second developer user, then find alice by her developer user ID.
  await nav(page, `#/pools/${encodeURIComponent(poolId)}/identities`);
  await fill(page, "input[name=newDeveloperUser]", "bob");
  await page.click("xpath/.//button[text()='Get or create identity']");
  await page.waitForSelector(".flash");
  await ready(page, `#/pools/${encodeURIComponent(poolId)}/identities/`);
  await nav(page, `#/pools/${encodeURIComponent(poolId)}/identities`);
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);
  await fill(page, "input[name=developerUser]", "alice");
  await page.click("xpath/.//button[text()='Find']");
  await page.waitForSelector("#found-identity");
  const aliceId = await text(page, "#found-identity");
  assert.equal(aliceId, claims.sub);
  await shot(page, "06-identities");
  // The same identity found by its login (Fedid.FindLogin): any provider
  // the pool trusts, here the developer provider and alice's user ID.
  await fill(page, "input[name=findProvider]", "login.example");
  await fill(page, "input[name=findKey]", "bob");
  await page.click("xpath/.//button[text()='Find login']");
  await page.waitForFunction(() => /login\.example bob/.test(document.querySelector("#found-identity")?.parentElement?.textContent || ""), { timeout: 20_000 });
  const bobId = await text(page, "#found-identity");
  assert.notEqual(bobId, aliceId);
  await fill(page, "input[name=findKey]", "alice");
  await page.click("xpath/.//button[text()='Find login']");
  await page.waitForFunction(() => /login\.example alice/.test(document.querySelector("#found-identity")?.parentElement?.textContent || ""), { timeout: 20_000 });
  assert.equal(await text(page, "#found-identity"), aliceId);
  await shot(page, "06b-identities-by-login");
  await page.click("#found-identity");
  await ready(page, `#/pools/${encodeURIComponent(poolId)}/identities/${encodeURIComponent(aliceId)}`);

  // Merge bob's identity into alice's.
  await fill(page, "input[name=mergeSource]", "bob");
  await page.click("xpath/.//button[text()='Merge']");
  await page.waitForSelector(".flash");
  assert.match(await text(page, ".flash"), /^Merged bob into /);
  assert.equal(await text(page, "#identity-id"), aliceId);
  const users = await page.$$eval(".dev-users li .mono", (els) => els.map((e) => e.textContent).sort());
  assert.deepEqual(users, ["alice", "bob"]);
  assert.match(await text(page, "#identity-logins"), /login\.example/);
  await shot(page, "07-identity");

  // Credentials with the token minted above: the role, and who they are.
  await nav(page, "#/credentials");
  assert.equal(await page.$eval("input[name=identityId]", (e) => e.value), aliceId);
  await page.click("xpath/.//button[text()='Get credentials']");
  await page.waitForSelector("dd[data-name='STS caller ARN']", { timeout: 20_000 });
  assert.equal(await text(page, "dd[data-name='Role']"), ROLE_AUTH);
  assert.equal(await text(page, "dd[data-name='STS caller ARN']"), "arn:aws:sts::000000000000:assumed-role/ConsoleAuth/CognitoIdentityCredentials");
  assert.match(await text(page, "dd[data-name='Access key ID']"), /^ASIA[A-Z0-9]{16}$/);
  // Why that role (Fedid.ExplainRole): fedid's own token, no mapped provider.
  assert.equal(await text(page, "#role-reason dd[data-name='Chosen role']"), ROLE_AUTH);
  assert.equal(await page.$eval("#role-reason", (e) => e.dataset.kind), "Default");
  assert.match(await text(page, "#role-reason dd[data-name='Why']"), /the pool's authenticated role/);
  await shot(page, "08-credentials");
  // A CustomRoleArn the configuration does not grant: refused, and why.
  await fill(page, "input[name=customRoleArn]", ROLE_RULE);
  await page.click("xpath/.//button[text()='Get credentials']");
  await page.waitForSelector("#role-reason dd[data-name='Refused with']", { timeout: 20_000 });
  await page.waitForSelector(".error:not([hidden])");
  assert.match(await text(page, "#role-reason dd[data-name='Refused with']"), /^NotAuthorizedException: CustomRoleArn/);
  assert.match(await text(page, "#role-reason dd[data-name='Why']"), /not the CustomRoleArn/);
  assert.equal(await text(page, "#role-reason dd[data-name='Chosen role']"), "none (refused)");
  await shot(page, "08b-credentials-refused");
  await fill(page, "input[name=customRoleArn]", "");

  // Keys: rotate, and a next key appears.
  await nav(page, "#/keys");
  await page.waitForSelector("#signing-keys tbody tr");
  assert.equal(await page.$$eval("#signing-keys tr[data-state='next']", (r) => r.length), 0);
  await page.click("#rotate");
  await page.waitForSelector("#signing-keys tr[data-state='next']");
  assert.equal(await page.$$eval("#signing-keys tr[data-state='current']", (r) => r.length), 1);
  const access = await page.$$eval("#access-keys tbody td:first-child", (els) => els.map((e) => e.textContent));
  assert.ok(access.some((a) => a.startsWith(KEY_ID)), `access keys listed: ${access}`);
  assert.ok(!(await page.content()).includes(SECRET), "no secret on the page");
  // SAML providers: one with the metadata pasted, one from a file, removed.
  assert.match(await text(page, "#saml-providers"), /None registered/);
  await fill(page, "input[name=samlName]", "ConsoleCorp");
  await page.$eval("textarea[name=samlMetadata]", (el, xml) => (el.value = xml), readFileSync(METADATA, "utf8"));
  await page.click("xpath/.//button[text()='Add SAML provider']");
  await page.waitForSelector(`#saml-providers tr[data-arn='${SAML_ARN}']`, { timeout: 20_000 });
  await fill(page, "input[name=samlName]", "ConsoleFile");
  const chooser = await page.$("input[name=samlMetadataFile]");
  await chooser.uploadFile(METADATA);
  await page.waitForFunction(() => document.querySelector("textarea[name=samlMetadata]").value.includes("EntityDescriptor"));
  await page.click("xpath/.//button[text()='Add SAML provider']");
  const fileArn = SAML_ARN.replace("ConsoleCorp", "ConsoleFile");
  await page.waitForSelector(`#saml-providers tr[data-arn='${fileArn}']`, { timeout: 20_000 });
  assert.equal(await page.$$eval("#saml-providers tbody tr", (r) => r.length), 2);
  await shot(page, "09-keys");
  await page.click(`#saml-providers tr[data-arn='${fileArn}'] button`);
  await page.waitForFunction(() => document.querySelectorAll("#saml-providers tbody tr").length === 1, { timeout: 20_000 });

  // Live view: rates from /metrics.
  await nav(page, "#/live");
  await page.waitForSelector("#live-totals table", { timeout: 20_000 });
  // Traffic from outside the page while it polls: unsigned calls, some refused.
  const traffic = setInterval(() => {
    for (const [target, body] of [["GetId", { IdentityPoolId: poolId }], ["GetId", { IdentityPoolId: "us-east-1:00000000-0000-4000-8000-000000000000" }]]) {
      fetch(`${fedid.endpoint}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSCognitoIdentityService.${target}` }, body: JSON.stringify(body) })
        .then((r) => r.arrayBuffer(), () => {});
    }
  }, 100);
  try {
    await page.waitForSelector("#live-ops table.bars", { timeout: 20_000 });
    await page.waitForSelector("#live-errors table.bars", { timeout: 20_000 });
  } finally {
    clearInterval(traffic);
  }
  assert.match(await text(page, "#live-errors"), /ResourceNotFoundException/);
  await page.waitForFunction(() => /Updated/.test(document.querySelector("main p.muted")?.textContent || ""), { timeout: 20_000 });
  const totals = await page.$$eval("#live-totals tbody td:first-child", (els) => els.map((e) => e.textContent));
  assert.ok(totals.includes("CreateIdentityPool") && totals.includes("Fedid.RotateSigningKey"), totals.join(","));
  // The last requests: the signed-in account's own, newest first, and
  // (development mode) the unsigned GetId calls.
  await page.waitForSelector("#live-recent tbody tr", { timeout: 20_000 });
  const recent = await text(page, "#live-recent");
  assert.match(recent, /GetId/);
  assert.match(recent, /ResourceNotFoundException/);
  await shot(page, "10-live");

  // The dark theme, and a phone's screen.
  await page.click("#theme");
  assert.equal(await page.$eval("html", (e) => e.dataset.theme), "dark");
  await nav(page, "#/keys");
  await page.waitForSelector("#signing-keys tbody tr");
  await shot(page, "11-keys-dark");
  await page.click("#theme");
  await page.setViewport({ width: 390, height: 844 });
  await nav(page, `#/pools/${encodeURIComponent(poolId)}/identities/${encodeURIComponent(aliceId)}`);
  await shot(page, "12-phone-identity");
  await nav(page, `#/pools/${encodeURIComponent(poolId)}`);
  await shot(page, "13-phone-pool");
  await page.setViewport({ width: 1280, height: 800 });

  // Keyboard: the skip link and the navigation are reachable by Tab.
  await page.keyboard.press("Tab");
  // Sign out: the secret leaves session storage.
  await page.click("#sign-out");
  await ready(page, "#/sign-in");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(await page.cookies(), []);
  await shot(page, "14-signed-out");
  assert.deepEqual(problems, [], "no console errors, page errors or failed requests");
  await page.close();
});

test("without valid credentials the console's calls are refused and change nothing", { timeout: 120_000 }, async () => {
  const { page, problems } = await open();
  await page.goto(`${fedid.endpoint}/console/`, { waitUntil: "load" });
  await ready(page, "#/sign-in");

  // A wrong secret for a real key: refused, nothing stored.
  await fill(page, "input[name=accessKeyId]", KEY_ID);
  await fill(page, "input[name=secretAccessKey]", "not-the-secret");
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector("#sign-in .error:not([hidden])");
  assert.match(await text(page, "#sign-in .error"), /InvalidSignatureException/);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await shot(page, "20-sign-in-refused");

  // An unknown key.
  await fill(page, "input[name=accessKeyId]", "AKIANOSUCHKEY0000000");
  await page.click("#sign-in button[type=submit]");
  await page.waitForFunction(() => /UnrecognizedClientException/.test(document.querySelector("#sign-in .error")?.textContent || ""));

  // Unsigned admin operations from the page itself: refused.
  const forged = await page.evaluate(async () => {
    const out = [];
    for (const target of ["Fedid.RotateSigningKey", "Fedid.ListAccessKeys", "AWSCognitoIdentityService.CreateIdentityPool"]) {
      const res = await fetch("/", { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
        body: JSON.stringify(target.endsWith("Pool") ? { IdentityPoolName: "forged", AllowUnauthenticatedIdentities: true } : {}) });
      out.push([target, res.status, (await res.json()).__type]);
    }
    return out;
  });
  for (const [target, status, type] of forged) {
    assert.equal(status, 400, target);
    assert.equal(type, "MissingAuthenticationTokenException", target);
  }

  // The right secret: in, and the forged calls changed nothing.
  await fill(page, "input[name=accessKeyId]", KEY_ID);
  await fill(page, "input[name=secretAccessKey]", SECRET);
  await page.click("#sign-in button[type=submit]");
  await ready(page, "#/pools");
  assert.ok(!page.url().includes(SECRET));
  assert.deepEqual(await page.cookies(), []);
  const names = await page.$$eval("tbody a", (els) => els.map((e) => e.textContent));
  assert.ok(!names.includes("forged"), names.join(","));
  await nav(page, "#/keys");
  await page.waitForSelector("#signing-keys tbody tr");
  // The first test's rotation left one next key; the forged one added none.
  assert.ok((await page.$$eval("#signing-keys tr[data-state='next']", (r) => r.length)) <= 1);
  await page.click("#sign-out");
  await ready(page, "#/sign-in");

  // The only problems: the refused calls' 400s, as Chromium logs them.
  const unexpected = problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p));
  assert.deepEqual(unexpected, []);
  assert.equal(problems.length, 5, problems.join("\n"));
  await page.close();
});

test("the pool form shows the API's validation messages next to the fields they name", { timeout: 120_000 }, async () => {
  const { page, problems } = await open();
  await page.goto(`${fedid.endpoint}/console/`, { waitUntil: "load" });
  await ready(page, "#/sign-in");
  await page.click("#sign-in button[type=submit]");
  await ready(page, "#/pools");
  await nav(page, "#/pools/new");
  const errorOf = (selector) => page.$eval(selector, (el) => {
    const e = document.getElementById(`${el.id}-error`);
    return e && !e.hidden ? e.textContent : "";
  });
  const submit = async (expect) => {
    await page.click("form.pool-form button[type=submit]");
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("#view > .error")?.textContent || ""), { timeout: 20_000 }, expect);
  };
  await fill(page, "input[name=name]", "invalid_fields");
  // Not a SAML provider ARN.
  await fill(page, "textarea[name=samlArns]", "arn:aws:iam::000000000000:role/NotSaml");
  await submit("not a SAML provider ARN");
  assert.match(await errorOf("textarea[name=samlArns]"), /is not a SAML provider ARN/);
  assert.equal(await page.$eval("textarea[name=samlArns]", (e) => e.getAttribute("aria-invalid")), "true");
  assert.equal(await errorOf("textarea[name=oidcArns]"), "");
  // A user pool provider name that is not one: shown at its row.
  await fill(page, "textarea[name=samlArns]", SAML_ARN);
  await page.click("xpath/.//button[text()='Add user pool provider']");
  await page.click("xpath/.//button[text()='Add user pool provider']");
  const rows = await page.$$("input[name=cognitoProvider]");
  const clients = await page.$$("input[name=cognitoClient]");
  await rows[0].type(USER_POOL);
  await clients[0].type("one");
  await rows[1].type("login.example.com/pool");
  await clients[1].type("two");
  await submit("not a Cognito user pool provider name");
  const rowErrors = await page.$$eval("input[name=cognitoProvider]", (els) => els.map((el) => !document.getElementById(`${el.id}-error`).hidden));
  assert.deepEqual(rowErrors, [false, true]);
  assert.equal(await page.$eval("#cognito-providers-error", (e) => e.hidden), true);
  // A client ID the API's pattern refuses: at that row's client field only
  // (the group, which the message names too, stays quiet: one place).
  await rows[1].click({ count: 3 });
  await rows[1].type(USER_POOL.replace("Console1", "Console2"));
  await clients[1].click({ count: 3 });
  await clients[1].type("not-valid");
  await submit("cognitoIdentityProviders");
  const clientErrors = await page.$$eval("input[name=cognitoClient]", (els) => els.map((el) => !document.getElementById(`${el.id}-error`).hidden));
  assert.deepEqual(clientErrors, [false, true]);
  assert.equal(await page.$eval("#cognito-providers-error", (e) => e.hidden), true);
  assert.equal(await page.$eval("#cognito-providers", (e) => e.getAttribute("aria-invalid")), "true");
  await shot(page, "15-pool-invalid");
  // Remove the wrong row: created.
  await page.click(".cognito-row:nth-child(2) button");
  await page.click("form.pool-form button[type=submit]");
  await page.waitForSelector(".flash");
  assert.equal(await text(page, ".flash"), "Pool created.");
  // A principal tag without a claim (the API refuses it): next to that provider's map.
  const samlMap = `fieldset.tag-map[data-provider='${SAML_ARN}'] textarea[name=tagMap]`;
  await fill(page, samlMap, "nope=");
  await page.click("form.pool-form button[type=submit]");
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    const e = el && document.getElementById(`${el.id}-error`);
    return e && !e.hidden;
  }, { timeout: 20_000 }, samlMap);
  assert.match(await errorOf(samlMap), /principalTags/);
  assert.equal(await errorOf(`fieldset.tag-map[data-provider='${USER_POOL}'] textarea[name=tagMap]`), "");
  await shot(page, "16-tag-map-invalid");

  // The only problems: the four refused calls' 400s, as Chromium logs them.
  const unexpected = problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p));
  assert.deepEqual(unexpected, []);
  assert.equal(problems.length, 4, problems.join("\n"));
  await page.close();
});
