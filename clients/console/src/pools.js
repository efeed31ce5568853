// Pools: list (paging, search by name), create, edit, delete, roles and
// role mappings.
import { call } from "./api.js";
import { h, field, showError, clearError, parsePairs, pairsText, lines, busy } from "./dom.js";

const PAGE = 20;

export function poolsPage(view) {
  const state = { tokens: [undefined], page: 0 };
  const search = h("input", { type: "search", name: "search", placeholder: "part of a pool name", autocomplete: "off" });
  const err = h("div", { class: "error", role: "alert", hidden: true });
  const body = h("div", { class: "table-wrap" });
  const prev = h("button", { type: "button", class: "secondary", onclick: () => load(state.page - 1) }, "← Previous");
  const next = h("button", { type: "button", class: "secondary", onclick: () => load(state.page + 1) }, "Next →");
  const pageInfo = h("span", { class: "muted", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "toolbar", role: "search", onsubmit: (e) => (e.preventDefault(), load(0)) },
    field("Search by name", search),
    h("button", { type: "submit" }, "Search"),
    h("a", { class: "button", href: "#/pools/new" }, "New pool"),
  );
  view.replaceChildren(h("h1", {}, "Identity pools"), form, err, body, h("div", { class: "pager" }, prev, pageInfo, next));

  async function load(page) {
    clearError(err);
    try {
      const q = search.value.trim().toLowerCase();
      let pools;
      let more = false;
      if (q) {
        // The API has no name filter: read every page (at most 50 of 60) and filter here.
        pools = [];
        let token;
        for (let i = 0; i < 50; i++) {
          const out = await call("ListIdentityPools", { MaxResults: 60, NextToken: token });
          pools.push(...(out.IdentityPools || []).filter((p) => p.IdentityPoolName.toLowerCase().includes(q)));
          token = out.NextToken;
          if (!token) break;
        }
        state.tokens = [undefined];
        state.page = 0;
        pageInfo.textContent = `${pools.length} matching “${search.value.trim()}”`;
      } else {
        const out = await call("ListIdentityPools", { MaxResults: PAGE, NextToken: state.tokens[page] });
        pools = out.IdentityPools || [];
        state.page = page;
        state.tokens[page + 1] = out.NextToken;
        more = !!out.NextToken;
        pageInfo.textContent = `Page ${page + 1}`;
      }
      prev.disabled = state.page === 0 || !!q;
      next.disabled = !more;
      body.replaceChildren(
        pools.length === 0
          ? h("p", { class: "empty" }, q ? "No pool matches." : "No identity pools yet.")
          : h(
              "table",
              {},
              h("caption", { class: "sr-only" }, "Identity pools"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "ID"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Links")))),
              h(
                "tbody",
                {},
                pools.map((p) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("a", { href: `#/pools/${encodeURIComponent(p.IdentityPoolId)}` }, p.IdentityPoolName)),
                    h("td", { class: "mono" }, p.IdentityPoolId),
                    h("td", {}, h("a", { href: `#/pools/${encodeURIComponent(p.IdentityPoolId)}/identities` }, "Identities")),
                  ),
                ),
              ),
            ),
      );
    } catch (e) {
      showError(err, e);
    }
  }
  load(0);
}

function ruleRow(rule = {}) {
  const claim = h("input", { name: "claim", value: rule.Claim || "", required: true });
  const match = h(
    "select",
    { name: "matchType" },
    ["Equals", "Contains", "StartsWith", "NotEqual"].map((m) => h("option", { value: m, selected: rule.MatchType === m }, m)),
  );
  const value = h("input", { name: "value", value: rule.Value || "", required: true });
  const role = h("input", { name: "roleARN", value: rule.RoleARN || "", required: true, placeholder: "arn:aws:iam::…:role/…" });
  const row = h("div", { class: "rule" }, field("Claim", claim), field("Match", match), field("Value", value), field("Role ARN", role));
  row.append(h("button", { type: "button", class: "secondary small", onclick: () => row.remove(), "aria-label": "Remove rule" }, "Remove rule"));
  row.read = () => ({ Claim: claim.value.trim(), MatchType: match.value, Value: value.value, RoleARN: role.value.trim() });
  return row;
}

function mappingBlock(provider = "", m = {}) {
  const prov = h("input", { name: "mappingProvider", value: provider, required: true, placeholder: "graph.facebook.com, a user pool's name:client…" });
  const type = h("select", { name: "mappingType" }, ["Rules", "Token"].map((t) => h("option", { value: t, selected: m.Type === t }, t)));
  const amb = h(
    "select",
    { name: "ambiguous" },
    ["AuthenticatedRole", "Deny"].map((t) => h("option", { value: t, selected: m.AmbiguousRoleResolution === t }, t)),
  );
  const rules = h("div", { class: "rules" }, (m.RulesConfiguration?.Rules || []).map(ruleRow));
  const block = h(
    "fieldset",
    { class: "mapping" },
    h("legend", {}, "Role mapping"),
    h("div", { class: "grid3" }, field("Provider", prov), field("Type", type), field("When ambiguous", amb)),
    rules,
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", class: "secondary small", onclick: () => rules.append(ruleRow()) }, "Add rule"),
      h("button", { type: "button", class: "secondary small", onclick: () => block.remove() }, "Remove mapping"),
    ),
  );
  block.read = () => {
    const out = { Type: type.value, AmbiguousRoleResolution: amb.value };
    if (type.value === "Rules") out.RulesConfiguration = { Rules: [...rules.children].map((r) => r.read()) };
    return [prov.value.trim(), out];
  };
  return block;
}

/** cognitoRow is a Cognito user pool provider: name, app client, server-side check. */
function cognitoRow(p = {}) {
  const name = h("input", { name: "cognitoProvider", value: p.ProviderName || "", placeholder: "cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E", dataset: { matchValue: "" } });
  const client = h("input", { name: "cognitoClient", value: p.ClientId || "", placeholder: "the app client ID", dataset: { matchValue: "" } });
  const check = h("input", { type: "checkbox", name: "cognitoServerSide", checked: p.ServerSideTokenCheck });
  const row = h("div", { class: "cognito-row" }, field("User pool provider name", name), field("App client ID", client), field("Server-side token check", check));
  row.append(h("button", { type: "button", class: "secondary small", onclick: () => row.remove() }, "Remove provider"));
  row.read = () => ({ ProviderName: name.value.trim(), ClientId: client.value.trim(), ServerSideTokenCheck: check.checked });
  return row;
}

/** providerNames are the names a pool's logins use for its providers (principal tag maps are per name). */
export function providerNames(pool) {
  const out = [];
  const add = (n) => n && !out.includes(n) && out.push(n);
  Object.keys(pool.SupportedLoginProviders || {}).forEach(add);
  (pool.CognitoIdentityProviders || []).forEach((c) => add(c.ProviderName));
  (pool.OpenIdConnectProviderARNs || []).forEach((a) => add(a.split(":oidc-provider/")[1]));
  (pool.SamlProviderARNs || []).forEach(add);
  return out;
}

/** tagMapBlock edits one provider's principal tag map. */
function tagMapBlock(provider, tm = {}) {
  const defaults = h("input", { type: "checkbox", name: "tagDefaults", checked: tm.UseDefaults });
  const tags = h("textarea", { name: "tagMap", rows: 2, class: "mono", placeholder: "tag=claim", dataset: { member: "PrincipalTags", match: `'${provider}'` } });
  tags.value = tm.UseDefaults ? "" : pairsText(tm.PrincipalTags);
  const sync = () => (tags.disabled = defaults.checked);
  defaults.addEventListener("change", sync);
  sync();
  const block = h("fieldset", { class: "tag-map", dataset: { provider } }, h("legend", { class: "mono" }, provider),
    field("Use the default map (aud → client, sub → username)", defaults),
    field("Principal tags", tags, "One tag=claim per line: the tag takes the token's claim."));
  const read = () => (defaults.checked ? { UseDefaults: true } : { UseDefaults: false, PrincipalTags: parsePairs(tags.value) });
  const was = JSON.stringify(read());
  block.provider = provider;
  block.read = read;
  block.changed = () => JSON.stringify(read()) !== was;
  return block;
}

export async function poolEditPage(view, poolId, go) {
  const isNew = !poolId;
  let pool = {};
  let roles = {};
  const err = h("div", { class: "error", role: "alert", hidden: true });
  view.replaceChildren(h("h1", {}, isNew ? "New identity pool" : "Identity pool"), err);
  if (!isNew) {
    try {
      [pool, roles] = await Promise.all([call("DescribeIdentityPool", { IdentityPoolId: poolId }), call("GetIdentityPoolRoles", { IdentityPoolId: poolId })]);
    } catch (e) {
      showError(err, e);
      return;
    }
  }
  const m = (member, el) => ((el.dataset.member = member), el);
  const name = m("IdentityPoolName", h("input", { name: "name", value: pool.IdentityPoolName || "", required: true, autocomplete: "off" }));
  const guests = m("AllowUnauthenticatedIdentities", h("input", { type: "checkbox", name: "guests", checked: pool.AllowUnauthenticatedIdentities }));
  const classic = m("AllowClassicFlow", h("input", { type: "checkbox", name: "classic", checked: pool.AllowClassicFlow }));
  const dev = m("DeveloperProviderName", h("input", { name: "developerProvider", value: pool.DeveloperProviderName || "", placeholder: "login.example" }));
  const logins = m("SupportedLoginProviders", h("textarea", { name: "loginProviders", rows: 2, placeholder: "accounts.google.com=123.apps.googleusercontent.com" }));
  logins.value = pairsText(pool.SupportedLoginProviders);
  const oidc = m("OpenIdConnectProviderARNs", h("textarea", { name: "oidcArns", rows: 2, placeholder: "arn:aws:iam::000000000000:oidc-provider/login.example.com" }));
  oidc.value = (pool.OpenIdConnectProviderARNs || []).join("\n");
  oidc.dataset.match = "not an OpenID Connect provider ARN";
  const saml = m("SamlProviderARNs", h("textarea", { name: "samlArns", rows: 2, placeholder: "arn:aws:iam::000000000000:saml-provider/corp" }));
  saml.dataset.match = "not a SAML provider ARN";
  saml.value = (pool.SamlProviderARNs || []).join("\n");
  const cognitoRows = h("div", { class: "cognito-rows" }, (pool.CognitoIdentityProviders || []).map(cognitoRow));
  const cognito = m("CognitoIdentityProviders", h("div", { class: "group", id: "cognito-providers", role: "group", "aria-labelledby": "cognito-providers-label" },
    h("p", { class: "group-label", id: "cognito-providers-label" }, "Cognito user pool providers"), cognitoRows,
    h("button", { type: "button", class: "secondary small", onclick: () => { const r = cognitoRow(); cognitoRows.append(r); r.querySelector("input").focus(); } }, "Add user pool provider"),
    h("small", { class: "field-error", id: "cognito-providers-error", role: "alert", hidden: true })));
  cognito.dataset.match = "Cognito identity providers"; // the count; a row's own values name the row
  // Principal tag maps, per provider of the saved pool.
  let tagMaps = [];
  if (!isNew) {
    try {
      tagMaps = await Promise.all(providerNames(pool).map((p) => call("GetPrincipalTagAttributeMap", { IdentityPoolId: poolId, IdentityProviderName: p })));
    } catch (e) {
      showError(err, e);
    }
  }
  const tagBlocks = tagMaps.map((tm) => tagMapBlock(tm.IdentityProviderName, tm));
  const tags = m("IdentityPoolTags", h("textarea", { name: "tags", rows: 2, placeholder: "team=blue" }));
  tags.value = pairsText(pool.IdentityPoolTags);
  const authRole = m("Roles", h("input", { name: "authenticatedRole", value: roles.Roles?.authenticated || "", placeholder: "arn:aws:iam::000000000000:role/Auth" }));
  const unauthRole = m("Roles", h("input", { name: "unauthenticatedRole", value: roles.Roles?.unauthenticated || "", placeholder: "arn:aws:iam::000000000000:role/Unauth" }));
  const mappings = h("div", { class: "mappings" }, Object.entries(roles.RoleMappings || {}).map(([p, mm]) => mappingBlock(p, mm)));
  const save = h("button", { type: "submit" }, isNew ? "Create pool" : "Save");
  const form = h(
    "form",
    { class: "pool-form", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, "Pool"),
      isNew ? "" : h("p", { class: "mono" }, "ID ", h("span", { id: "pool-id" }, poolId)),
      field("Name", name),
      field("Allow guests (unauthenticated identities)", guests),
      field("Allow the classic (basic) flow", classic),
      field("Developer provider name", dev, isNew || !pool.DeveloperProviderName ? "Set once; it cannot change afterwards." : "Set once; it cannot change."),
      field("Supported login providers", logins, "One provider=app ID per line."),
      field("OpenID Connect provider ARNs", oidc, "One ARN per line."),
      field("SAML provider ARNs", saml, "One ARN per line (the Keys page lists the account's SAML providers)."),
      cognito,
      field("Tags", tags, "One key=value per line."),
    ),
    h("fieldset", { id: "tag-maps" }, h("legend", {}, "Principal tags"),
      isNew
        ? h("p", { class: "muted" }, "Create the pool first: principal tag maps are set per provider of a saved pool.")
        : tagBlocks.length
          ? [h("p", { class: "muted" }, "Which token claims become principal tags, per provider (GetPrincipalTagAttributeMap / SetPrincipalTagAttributeMap)."), tagBlocks]
          : h("p", { class: "muted" }, "The pool trusts no provider yet.")),
    h("fieldset", {}, h("legend", {}, "Roles"), field("Authenticated role ARN", authRole), field("Guest (unauthenticated) role ARN", unauthRole), mappings,
      h("button", { type: "button", class: "secondary small", onclick: () => mappings.append(mappingBlock()) }, "Add role mapping")),
    h("div", { class: "row" }, save, isNew ? "" : h("a", { class: "button secondary", href: `#/pools/${encodeURIComponent(poolId)}/identities` }, "Identities")),
  );
  view.append(form);
  if (dev.value && !isNew) dev.readOnly = true;

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(save, async () => {
      clearError(err, form);
      const input = {
        IdentityPoolName: name.value.trim(),
        AllowUnauthenticatedIdentities: guests.checked,
        AllowClassicFlow: classic.checked,
      };
      if (dev.value.trim()) input.DeveloperProviderName = dev.value.trim();
      const lp = parsePairs(logins.value);
      if (Object.keys(lp).length || !isNew) input.SupportedLoginProviders = lp;
      const arns = lines(oidc.value);
      if (arns.length || !isNew) input.OpenIdConnectProviderARNs = arns;
      const sa = lines(saml.value);
      if (sa.length || !isNew) input.SamlProviderARNs = sa;
      const cp = [...cognitoRows.children].map((r) => r.read());
      if (cp.length || !isNew) input.CognitoIdentityProviders = cp;
      const tg = parsePairs(tags.value);
      if (Object.keys(tg).length || !isNew) input.IdentityPoolTags = tg;
      const r = {};
      if (authRole.value.trim()) r.authenticated = authRole.value.trim();
      if (unauthRole.value.trim()) r.unauthenticated = unauthRole.value.trim();
      const rm = Object.fromEntries([...mappings.children].map((b) => b.read()));
      try {
        let id = poolId;
        if (isNew) id = (await call("CreateIdentityPool", input)).IdentityPoolId;
        else await call("UpdateIdentityPool", { IdentityPoolId: poolId, ...input });
        if (!isNew || Object.keys(r).length || Object.keys(rm).length) {
          try {
            await call("SetIdentityPoolRoles", { IdentityPoolId: id, Roles: r, RoleMappings: rm });
          } catch (e2) {
            if (isNew) {
              // The pool exists now: go on from its page.
              go(`#/pools/${encodeURIComponent(id)}`, { error: e2 });
              return;
            }
            throw e2;
          }
        }
        // Principal tag maps of the providers the pool still trusts, where changed.
        const trusted = providerNames(input);
        for (const b of tagBlocks) {
          if (!b.changed() || !trusted.includes(b.provider)) continue;
          try {
            await call("SetPrincipalTagAttributeMap", { IdentityPoolId: id, IdentityProviderName: b.provider, ...b.read() });
          } catch (e2) {
            showError(err, e2, b);
            return;
          }
        }
        go(`#/pools/${encodeURIComponent(id)}`, { flash: isNew ? "Pool created." : "Saved." });
      } catch (e2) {
        showError(err, e2, form);
      }
    });
  });

  if (!isNew) {
    const confirmBox = h("div", { class: "confirm", hidden: true });
    const del = h("button", { type: "button", class: "danger", onclick: () => (confirmBox.hidden = false, confirmBox.querySelector("button").focus()) }, "Delete pool…");
    confirmBox.append(
      h("p", {}, `Delete “${pool.IdentityPoolName}” and every identity in it? This cannot be undone.`),
      h("button", { type: "button", class: "danger", onclick: (e) => busy(e.target, async () => {
        try {
          await call("DeleteIdentityPool", { IdentityPoolId: poolId });
          go("#/pools", { flash: "Pool deleted." });
        } catch (e2) {
          showError(err, e2);
        }
      }) }, "Delete"),
      h("button", { type: "button", class: "secondary", onclick: () => (confirmBox.hidden = true) }, "Cancel"),
    );
    view.append(h("section", { class: "danger-zone", "aria-label": "Delete" }, del, confirmBox));
  }
}
