// The console's only way to fedid: the same signed API every client uses.
// Every call is a SigV4-signed POST to this origin; the secret stays in
// sessionStorage (this tab only, gone when it closes) and in memory, never
// in a URL, a cookie or a log.
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";

const STORAGE_KEY = "fedid.console.credentials";

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message || type);
    this.type = type;
    this.status = status;
  }
}

let current = null;

/** The signed-in credentials, or null. */
export function credentials() {
  if (current) return current;
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    if (saved && saved.accessKeyId && saved.secretAccessKey) current = saved;
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
  }
  return current;
}

export function signIn(creds) {
  current = { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, region: creds.region };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(current));
}

export function signOut() {
  current = null;
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * signedFetch POSTs body to path on this origin, signed for service with
 * creds ({accessKeyId, secretAccessKey, sessionToken?, region}); unsigned
 * when creds is null.
 */
async function signedFetch(creds, service, path, headers, body) {
  let sent = { ...headers };
  if (creds) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
      region: creds.region,
      service,
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign({
      method: "POST",
      protocol: location.protocol,
      hostname: location.hostname,
      port: location.port ? Number(location.port) : undefined,
      path,
      query: {},
      headers: { ...headers, host: location.host },
      body,
    });
    sent = { ...signed.headers };
    delete sent.host; // the browser sends the same Host itself
  }
  return fetch(path, { method: "POST", headers: sent, body, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
}

/**
 * call runs an operation of fedid's JSON API: a cognito-identity operation
 * by name ("ListIdentityPools") or one of fedid's own ("Fedid.ListSigningKeys").
 * opts.creds overrides the signed-in credentials; null sends it unsigned.
 */
export async function call(op, input = {}, opts = {}) {
  const creds = opts.creds === undefined ? credentials() : opts.creds;
  const target = op.includes(".") ? op : `AWSCognitoIdentityService.${op}`;
  const res = await signedFetch(
    creds,
    "cognito-identity",
    opts.path || "/",
    { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
    JSON.stringify(input),
  );
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!res.ok) {
    const type = (data.__type || res.headers.get("x-amzn-ErrorType") || `HTTP ${res.status}`).split("#").pop().split(":")[0];
    throw new ApiError(type, data.message || data.Message || res.statusText, res.status);
  }
  return data;
}

/** describeCredentials asks fedid who is behind temporary credentials it issued. */
export function describeCredentials(accessKeyId) {
  return call("DescribeCredentials", { AccessKeyId: accessKeyId }, { path: "/fedid/describe-credentials" });
}

/**
 * query runs an action of the query protocol (STS, IAM) on this origin and
 * returns the response document.
 */
export async function query(service, params, opts = {}) {
  const creds = opts.creds === undefined ? credentials() : opts.creds;
  const body = new URLSearchParams(params).toString();
  const res = await signedFetch(creds, service, "/", { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body);
  const text = await res.text();
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (!res.ok) {
    const code = doc.querySelector("Error > Code")?.textContent || `HTTP ${res.status}`;
    throw new ApiError(code, doc.querySelector("Error > Message")?.textContent || res.statusText, res.status);
  }
  return doc;
}

/** all of a query document's elements named tag, as text. */
export const texts = (doc, selector) => [...doc.querySelectorAll(selector)].map((e) => e.textContent);
