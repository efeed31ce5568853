// Tokens: mint a developer token and verify it; paste any token to decode
// and verify. Credentials: GetCredentialsForIdentity, the role chosen, and
// who the credentials are (STS GetCallerIdentity with them).
import { call, query, describeCredentials, texts } from "./api.js";
import { decode, verify } from "./jwt.js";
import { h, field, showError, clearError, parsePairs, fmtTime, busy } from "./dom.js";

// The last token minted in this tab, in memory only (never stored).
let last = null;

async function poolOptions(select, selected) {
  const out = await call("ListIdentityPools", { MaxResults: 60 });
  const pools = (out.IdentityPools || []);
  select.replaceChildren(...pools.map((p) => h("option", { value: p.IdentityPoolId, selected: p.IdentityPoolId === selected }, `${p.IdentityPoolName} (${p.IdentityPoolId})`)));
  if (selected && !pools.some((p) => p.IdentityPoolId === selected)) select.append(h("option", { value: selected, selected: true }, selected));
}

function showToken(out, token) {
  out.replaceChildren();
  let d;
  try {
    d = decode(token);
  } catch (e) {
    out.append(h("p", { class: "bad", id: "verify-result", dataset: { ok: "false" } }, e.message));
    return;
  }
  const status = h("p", { class: "pending", id: "verify-result", "aria-live": "polite" }, "Verifying against fedid's JWKS…");
  const exp = d.claims.exp ? ` · expires ${fmtTime(d.claims.exp)}` : "";
  out.append(
    status,
    h("div", { class: "split" },
      h("section", {}, h("h3", {}, "Header"), h("pre", { id: "token-header" }, JSON.stringify(d.header, null, 2))),
      h("section", {}, h("h3", {}, "Claims", h("small", { class: "muted" }, exp)), h("pre", { id: "token-claims" }, JSON.stringify(d.claims, null, 2)))),
  );
  verify(token).then(
    (r) => {
      status.className = r.ok ? "good" : "bad";
      status.dataset.ok = String(r.ok);
      status.textContent = r.ok ? `✔ Valid: ${r.reason}.` : `✘ Not verified: ${r.reason}.`;
    },
    (e) => {
      status.className = "bad";
      status.dataset.ok = "false";
      status.textContent = `✘ Not verified: ${e.message}`;
    },
  );
}

export async function tokensPage(view, params) {
  const err = h("div", { class: "error", role: "alert", hidden: true });
  const pool = h("select", { name: "pool", required: true });
  const user = h("input", { name: "user", required: true, value: params.get("user") || "", autocomplete: "off" });
  const tags = h("textarea", { name: "principalTags", rows: 2, placeholder: "team=blue" });
  const duration = h("input", { name: "duration", type: "number", min: 1, max: 86400, value: 900, inputmode: "numeric" });
  const mintBtn = h("button", { type: "submit" }, "Mint token");
  const minted = h("div", { id: "minted" });
  const form = h("form", { class: "stack", onsubmit: (e) => (e.preventDefault(), busy(mintBtn, async () => {
    clearError(err);
    try {
      const p = await call("DescribeIdentityPool", { IdentityPoolId: pool.value });
      if (!p.DeveloperProviderName) throw Object.assign(new Error("This pool has no developer provider name; set one on the pool first."), { type: "No developer provider" });
      const input = { IdentityPoolId: pool.value, Logins: { [p.DeveloperProviderName]: user.value.trim() }, TokenDuration: Number(duration.value) };
      const pt = parsePairs(tags.value);
      if (Object.keys(pt).length) input.PrincipalTags = pt;
      const out = await call("GetOpenIdTokenForDeveloperIdentity", input);
      last = { identityId: out.IdentityId, token: out.Token, poolId: pool.value };
      minted.replaceChildren(
        h("p", {}, "Identity ", h("a", { class: "mono", href: `#/pools/${encodeURIComponent(pool.value)}/identities/${encodeURIComponent(out.IdentityId)}` }, out.IdentityId),
          " · ", h("a", { href: "#/credentials" }, "Get credentials with this token")),
        field("Token", h("textarea", { readonly: true, rows: 4, class: "mono token", value: out.Token })),
      );
      const dec = h("div");
      minted.append(dec);
      showToken(dec, out.Token);
    } catch (e2) {
      showError(err, e2, form);
    }
  })) },
  h("div", { class: "grid2" }, field("Pool", pool), field("Developer user ID", user)),
  h("div", { class: "grid2" }, field("Principal tags", tags, "One key=value per line."), field("Duration (seconds)", duration, "1 to 86400.")),
  h("div", { class: "row" }, mintBtn));
  tags.dataset.member = "PrincipalTags";
  duration.dataset.member = "TokenDuration";

  const pasted = h("textarea", { name: "pasted", rows: 4, class: "mono", placeholder: "eyJ…" });
  const pastedOut = h("div");
  const paste = h("form", { class: "stack", onsubmit: (e) => (e.preventDefault(), showToken(pastedOut, pasted.value)) },
    field("Token", pasted), h("div", { class: "row" }, h("button", { type: "submit" }, "Decode and verify")), pastedOut);

  view.replaceChildren(
    h("h1", {}, "Tokens"), err,
    h("section", { "aria-labelledby": "mint" }, h("h2", { id: "mint" }, "Mint a developer token"), form, minted),
    h("section", { "aria-labelledby": "paste" }, h("h2", { id: "paste" }, "Decode and verify a token"), paste),
  );
  try {
    await poolOptions(pool, params.get("pool"));
  } catch (e) {
    showError(err, e);
  }
}

export function credentialsPage(view) {
  const err = h("div", { class: "error", role: "alert", hidden: true });
  const identity = h("input", { name: "identityId", required: true, class: "mono", value: last?.identityId || "", autocomplete: "off" });
  const provider = h("input", { name: "loginProvider", value: last ? "cognito-identity.amazonaws.com" : "", placeholder: "cognito-identity.amazonaws.com" });
  const token = h("textarea", { name: "loginToken", rows: 3, class: "mono", placeholder: "the login's token; none for a guest" });
  token.value = last?.token || "";
  const customRole = h("input", { name: "customRoleArn", placeholder: "optional" });
  const goBtn = h("button", { type: "submit" }, "Get credentials");
  const out = h("div", { id: "credentials-result", "aria-live": "polite" });
  const form = h("form", { class: "stack", onsubmit: (e) => (e.preventDefault(), busy(goBtn, async () => {
    clearError(err);
    out.replaceChildren();
    try {
      const input = { IdentityId: identity.value.trim() };
      if (provider.value.trim() && token.value.trim()) input.Logins = { [provider.value.trim()]: token.value.trim() };
      if (customRole.value.trim()) input.CustomRoleArn = customRole.value.trim();
      // Why: the role fedid would choose and the reason, from the same
      // code path, signed (Fedid.ExplainRole: nothing linked, no credentials).
      const why = [];
      let explained = null;
      try {
        explained = await call("Fedid.ExplainRole", input);
        why.push(["Chosen role", explained.RoleArn || "none (refused)"], ["Why", explained.Reason]);
        if (explained.Rule) {
          const r = explained.Rule;
          why.push(["Matching rule", `${r.Provider}, rule ${r.Index}: ${r.Claim} ${r.MatchType} "${r.Value}"`]);
        }
        if (explained.Error) why.push(["Refused with", `${explained.Error.Code}: ${explained.Error.Message}`]);
      } catch (e2) {
        why.push(["Why", `not explained (${e2.type}: ${e2.message})`]);
      }
      const whyBox = h("section", { id: "role-reason", class: "reason", dataset: { kind: explained?.Kind || "" } }, h("h2", {}, "Role"),
        h("dl", { class: "facts" }, why.map(([k, v]) => [h("dt", {}, k), h("dd", { class: k === "Why" ? "" : "mono", dataset: { name: k } }, v)])));
      out.replaceChildren(whyBox);
      if (explained?.Error) {
        // GetCredentialsForIdentity would refuse the same way: not asked.
        showError(err, { type: explained.Error.Code, message: explained.Error.Message }, form);
        whyBox.append(h("p", { class: "muted" }, "No credentials were asked for: GetCredentialsForIdentity refuses this role the same way."));
        return;
      }
      // An unsigned operation, as a device calls it.
      const res = await call("GetCredentialsForIdentity", input, { creds: null });
      const c = res.Credentials;
      const rows = [["Identity", res.IdentityId], ["Access key ID", c.AccessKeyId], ["Expires", fmtTime(c.Expiration)]];
      // Which role fedid chose (local credentials only).
      try {
        const d = await describeCredentials(c.AccessKeyId);
        rows.push(["Role", d.RoleArn], ["Assumed role", d.AssumedRoleArn]);
        if (d.PrincipalTags) rows.push(["Principal tags", Object.entries(d.PrincipalTags).map(([k, v]) => `${k}=${v}`).join(", ")]);
      } catch (e2) {
        rows.push(["Role", `not known to fedid (${e2.type})`]);
      }
      // Who they are, asked with the credentials themselves.
      const me = await query("sts", { Action: "GetCallerIdentity", Version: "2011-06-15" },
        { creds: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretKey, sessionToken: c.SessionToken, region: identity.value.split(":")[0] || "us-east-1" } });
      rows.push(["STS caller ARN", texts(me, "Arn")[0]], ["STS user ID", texts(me, "UserId")[0]], ["STS account", texts(me, "Account")[0]]);
      out.append(h("h2", {}, "Credentials"), h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono", dataset: { name: k } }, v)])),
        h("p", { class: "muted" }, "The secret key and session token stay in this page's memory; they are not shown."));
    } catch (e2) {
      showError(err, e2, form);
    }
  })) },
  field("Identity ID", identity),
  h("div", { class: "grid2" }, field("Login provider", provider), field("Custom role ARN", customRole)),
  field("Login token", token, last ? "Prefilled with the token minted last in this tab." : "Mint one on the Tokens page, or paste a provider's token."),
  h("div", { class: "row" }, goBtn));
  view.replaceChildren(h("h1", {}, "Credentials"), err, form, out);
}
