// Decoding a compact JWS and verifying its RS512 signature against
// fedid's JWKS with WebCrypto (RSASSA-PKCS1-v1_5, SHA-512).

function b64urlBytes(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const b64urlJSON = (s) => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(b64urlBytes(s)));

/** decode splits a token into its header and claims; throws if it is not a compact JWS. */
export function decode(token) {
  const parts = token.trim().split(".");
  if (parts.length !== 3) throw new Error("Not a compact JWS: a token has three dot-separated parts.");
  let header, claims;
  try {
    header = b64urlJSON(parts[0]);
    claims = b64urlJSON(parts[1]);
  } catch {
    throw new Error("The header or the claims are not base64url-encoded JSON.");
  }
  return { header, claims, parts };
}

/**
 * verify checks the token's signature with the key of its kid in fedid's
 * JWKS (/.well-known/jwks_uri). Resolves to {ok, reason, kid}.
 */
export async function verify(token) {
  const { header, parts } = decode(token);
  if (header.alg !== "RS512") return { ok: false, reason: `alg ${header.alg} is not RS512, the only one fedid signs with` };
  if (!globalThis.crypto?.subtle) return { ok: false, reason: "WebCrypto is unavailable: this page is not a secure context (serve fedid over HTTPS or open it on localhost)" };
  const res = await fetch("/.well-known/jwks_uri", { credentials: "omit" });
  if (!res.ok) return { ok: false, reason: `JWKS: HTTP ${res.status}` };
  const jwks = await res.json();
  const jwk = (jwks.keys || []).find((k) => k.kid === header.kid);
  if (!jwk) return { ok: false, reason: `no key ${header.kid} in fedid's JWKS`, kid: header.kid };
  const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: "RS512", ext: true }, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, false, ["verify"]);
  const ok = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, b64urlBytes(parts[2]), new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
  return { ok, reason: ok ? `signature verified with key ${header.kid} of fedid's JWKS` : `signature does not verify with key ${header.kid}`, kid: header.kid };
}
