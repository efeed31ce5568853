// Identities of a pool: list with paging, find by developer user ID
// (LookupDeveloperIdentity) or by any login (Fedid.FindLogin), an
// identity's page (logins, times, merge, unlink, delete, mint a token).
import { call } from "./api.js";
import { h, field, showError, clearError, fmtTime, busy } from "./dom.js";
import { providerNames } from "./pools.js";

const PAGE = 20;
const enc = encodeURIComponent;

async function poolOf(poolId) {
  return call("DescribeIdentityPool", { IdentityPoolId: poolId });
}

export async function identitiesPage(view, poolId, go) {
  const err = h("div", { class: "error", role: "alert", hidden: true });
  const title = h("h1", {}, "Identities");
  view.replaceChildren(h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/pools" }, "Pools"), " / ", h("a", { href: `#/pools/${enc(poolId)}` }, poolId)), title, err);
  let pool;
  try {
    pool = await poolOf(poolId);
  } catch (e) {
    showError(err, e);
    return;
  }
  title.textContent = `Identities of ${pool.IdentityPoolName}`;

  // Find by developer user ID.
  const user = h("input", { name: "developerUser", required: true, autocomplete: "off" });
  const found = h("div", { "aria-live": "polite" });
  const findBtn = h("button", { type: "submit" }, "Find");
  const find = h(
    "form",
    { class: "toolbar", onsubmit: (e) => (e.preventDefault(), busy(findBtn, async () => {
      clearError(err);
      found.replaceChildren();
      try {
        const out = await call("LookupDeveloperIdentity", { IdentityPoolId: poolId, DeveloperUserIdentifier: user.value.trim(), MaxResults: 10 });
        found.replaceChildren(h("p", {}, "Developer user ", h("strong", {}, user.value.trim()), " is identity ",
          h("a", { href: `#/pools/${enc(poolId)}/identities/${enc(out.IdentityId)}`, id: "found-identity" }, out.IdentityId)));
      } catch (e2) {
        showError(err, e2);
      }
    })) },
    field("Find by developer user ID", user),
    findBtn,
  );
  if (!pool.DeveloperProviderName) find.hidden = true;

  // Find by any login: the provider as Logins names it, and its user key.
  const names = [...providerNames(pool), pool.DeveloperProviderName].filter(Boolean);
  const loginProvider = h("input", { name: "findProvider", required: true, autocomplete: "off", list: "login-providers", placeholder: names[0] || "accounts.google.com" });
  const loginKey = h("input", { name: "findKey", required: true, autocomplete: "off", placeholder: "the token's sub, a developer user ID, a SAML NameID" });
  const byLoginBtn = h("button", { type: "submit" }, "Find login");
  const byLogin = h(
    "form",
    { class: "toolbar", id: "find-login", onsubmit: (e) => (e.preventDefault(), busy(byLoginBtn, async () => {
      clearError(err);
      found.replaceChildren();
      const provider = loginProvider.value.trim();
      const key = loginKey.value.trim();
      try {
        const out = await call("Fedid.FindLogin", { IdentityPoolId: poolId, Provider: provider, Key: key });
        found.replaceChildren(h("p", {}, "The login ", h("strong", {}, `${provider} ${key}`), " is held by identity ",
          h("a", { href: `#/pools/${enc(poolId)}/identities/${enc(out.IdentityId)}`, id: "found-identity" }, out.IdentityId)));
      } catch (e2) {
        showError(err, e2);
      }
    })) },
    h("datalist", { id: "login-providers" }, names.map((n) => h("option", { value: n }))),
    field("Find by login: provider", loginProvider),
    field("User key", loginKey),
    byLoginBtn,
  );

  // Create (or get) a developer identity, through GetOpenIdTokenForDeveloperIdentity.
  const newUser = h("input", { name: "newDeveloperUser", required: true, autocomplete: "off" });
  const createBtn = h("button", { type: "submit", class: "secondary" }, "Get or create identity");
  const create = h(
    "form",
    { class: "toolbar", onsubmit: (e) => (e.preventDefault(), busy(createBtn, async () => {
      clearError(err);
      try {
        const out = await call("GetOpenIdTokenForDeveloperIdentity", { IdentityPoolId: poolId, Logins: { [pool.DeveloperProviderName]: newUser.value.trim() } });
        go(`#/pools/${enc(poolId)}/identities/${enc(out.IdentityId)}`, { flash: `Developer user ${newUser.value.trim()} is identity ${out.IdentityId}.` });
      } catch (e2) {
        showError(err, e2);
      }
    })) },
    field(`New or existing developer user (${pool.DeveloperProviderName || "no developer provider"})`, newUser),
    createBtn,
  );
  if (!pool.DeveloperProviderName) create.hidden = true;

  const body = h("div", { class: "table-wrap" });
  const tokens = [undefined];
  let page = 0;
  const prev = h("button", { type: "button", class: "secondary", onclick: () => load(page - 1) }, "← Previous");
  const next = h("button", { type: "button", class: "secondary", onclick: () => load(page + 1) }, "Next →");
  const info = h("span", { class: "muted", "aria-live": "polite" });
  view.append(h("div", { class: "split" }, find, create), byLogin, found, body, h("div", { class: "pager" }, prev, info, next));

  async function load(p) {
    try {
      const out = await call("ListIdentities", { IdentityPoolId: poolId, MaxResults: PAGE, NextToken: tokens[p] });
      page = p;
      tokens[p + 1] = out.NextToken;
      prev.disabled = p === 0;
      next.disabled = !out.NextToken;
      info.textContent = `Page ${p + 1}`;
      const ids = out.Identities || [];
      body.replaceChildren(
        ids.length === 0
          ? h("p", { class: "empty" }, "No identities yet.")
          : h("table", {},
              h("caption", { class: "sr-only" }, "Identities"),
              h("thead", {}, h("tr", {}, ["Identity", "Logins", "Created", "Modified"].map((c) => h("th", { scope: "col" }, c)))),
              h("tbody", {}, ids.map((i) => h("tr", {},
                h("td", { class: "mono" }, h("a", { href: `#/pools/${enc(poolId)}/identities/${enc(i.IdentityId)}` }, i.IdentityId)),
                h("td", {}, (i.Logins || []).join(", ") || "guest"),
                h("td", {}, fmtTime(i.CreationDate)),
                h("td", {}, fmtTime(i.LastModifiedDate)))))),
      );
    } catch (e) {
      showError(err, e);
    }
  }
  load(0);
}

export async function identityPage(view, poolId, identityId, go) {
  const err = h("div", { class: "error", role: "alert", hidden: true });
  view.replaceChildren(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/pools" }, "Pools"), " / ",
      h("a", { href: `#/pools/${enc(poolId)}` }, poolId), " / ", h("a", { href: `#/pools/${enc(poolId)}/identities` }, "Identities")),
    h("h1", {}, "Identity"),
    h("p", { class: "mono", id: "identity-id" }, identityId),
    err,
  );
  let pool, desc, devUsers = [];
  try {
    [pool, desc] = await Promise.all([poolOf(poolId), call("DescribeIdentity", { IdentityId: identityId })]);
    if (pool.DeveloperProviderName) {
      const out = await call("LookupDeveloperIdentity", { IdentityPoolId: poolId, IdentityId: identityId, MaxResults: 60 });
      devUsers = out.DeveloperUserIdentifierList || [];
    }
  } catch (e) {
    showError(err, e);
    return;
  }
  const reload = (flash) => go(`#/pools/${enc(poolId)}/identities/${enc(identityId)}`, { flash, force: true });
  view.append(
    h("dl", { class: "facts" },
      h("dt", {}, "Created"), h("dd", {}, fmtTime(desc.CreationDate)),
      h("dt", {}, "Modified"), h("dd", {}, fmtTime(desc.LastModifiedDate)),
      h("dt", {}, "Logins"), h("dd", { id: "identity-logins" }, (desc.Logins || []).length ? h("ul", {}, desc.Logins.map((l) => h("li", {}, l))) : "none (guest)")),
  );

  if (pool.DeveloperProviderName) {
    view.append(
      h("section", { "aria-labelledby": "dev-users" },
        h("h2", { id: "dev-users" }, `Developer users (${pool.DeveloperProviderName})`),
        devUsers.length === 0 ? h("p", { class: "empty" }, "None.") : h("ul", { class: "dev-users" }, devUsers.map((u) => h("li", {},
          h("span", { class: "mono" }, u), " ",
          h("a", { class: "button secondary small", href: `#/tokens?pool=${enc(poolId)}&user=${enc(u)}` }, "Mint a token"), " ",
          h("button", { type: "button", class: "secondary small", "aria-label": `Unlink ${u}`, onclick: (e) => busy(e.target, async () => {
            try {
              await call("UnlinkDeveloperIdentity", { IdentityId: identityId, IdentityPoolId: poolId, DeveloperProviderName: pool.DeveloperProviderName, DeveloperUserIdentifier: u });
              reload(`Unlinked ${u}.`);
            } catch (e2) {
              showError(err, e2);
            }
          }) }, "Unlink")))),
      ),
    );
    // Merge another developer user's identity into this one.
    const source = h("input", { name: "mergeSource", required: true, autocomplete: "off" });
    const dest = h("select", { name: "mergeDestination" }, devUsers.map((u) => h("option", { value: u }, u)));
    const mergeBtn = h("button", { type: "submit" }, "Merge");
    const form = h("form", { class: "toolbar", onsubmit: (e) => (e.preventDefault(), busy(mergeBtn, async () => {
      clearError(err);
      try {
        const out = await call("MergeDeveloperIdentities", { SourceUserIdentifier: source.value.trim(), DestinationUserIdentifier: dest.value,
          DeveloperProviderName: pool.DeveloperProviderName, IdentityPoolId: poolId });
        go(`#/pools/${enc(poolId)}/identities/${enc(out.IdentityId)}`, { flash: `Merged ${source.value.trim()} into ${out.IdentityId}.`, force: true });
      } catch (e2) {
        showError(err, e2);
      }
    })) }, field("Merge the identity of developer user", source), field("into this identity's user", dest), mergeBtn);
    if (devUsers.length === 0) form.hidden = true;
    view.append(h("section", { "aria-labelledby": "merge" }, h("h2", { id: "merge" }, "Merge"), form));
  }

  const confirmBox = h("div", { class: "confirm", hidden: true },
    h("p", {}, "Delete this identity? Its logins are unlinked; this cannot be undone."),
    h("button", { type: "button", class: "danger", onclick: (e) => busy(e.target, async () => {
      try {
        const out = await call("DeleteIdentities", { IdentityIdsToDelete: [identityId] });
        if ((out.UnprocessedIdentityIds || []).length) throw Object.assign(new Error(out.UnprocessedIdentityIds[0].ErrorCode), { type: "Unprocessed" });
        go(`#/pools/${enc(poolId)}/identities`, { flash: "Identity deleted." });
      } catch (e2) {
        showError(err, e2);
      }
    }) }, "Delete"),
    h("button", { type: "button", class: "secondary", onclick: () => (confirmBox.hidden = true) }, "Cancel"));
  view.append(h("section", { class: "danger-zone", "aria-label": "Delete" },
    h("button", { type: "button", class: "danger", onclick: () => (confirmBox.hidden = false) }, "Delete identity…"), confirmBox));
}
