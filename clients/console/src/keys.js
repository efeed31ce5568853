// Keys: signing keys (Fedid.ListSigningKeys, Fedid.RotateSigningKey), OIDC
// and SAML providers (IAM query API), access keys (Fedid.ListAccessKeys, no
// secrets).
import { call, query, texts } from "./api.js";
import { h, field, showError, clearError, fmtTime, lines, busy } from "./dom.js";

const table = (caption, cols, rows) =>
  h("table", {}, h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows));

export async function keysPage(view, go) {
  const err = h("div", { class: "error", role: "alert", hidden: true });
  const signing = h("div", { class: "table-wrap", id: "signing-keys" });
  const providers = h("div", { class: "table-wrap", id: "oidc-providers" });
  const access = h("div", { class: "table-wrap", id: "access-keys" });
  const rotate = h("button", { type: "button", id: "rotate" }, "Rotate now");
  const url = h("input", { name: "oidcUrl", type: "url", required: true, placeholder: "https://login.example.com" });
  const clients = h("textarea", { name: "oidcClients", rows: 2, placeholder: "my-app" });
  const thumbs = h("textarea", { name: "oidcThumbprints", rows: 2, placeholder: "40 hex digits (optional)" });
  const addBtn = h("button", { type: "submit" }, "Add provider");
  const add = h("form", { class: "stack", onsubmit: (e) => (e.preventDefault(), busy(addBtn, async () => {
    clearError(err);
    const params = { Action: "CreateOpenIDConnectProvider", Version: "2010-05-08", Url: url.value.trim() };
    lines(clients.value).forEach((c, i) => (params[`ClientIDList.member.${i + 1}`] = c));
    lines(thumbs.value).forEach((t, i) => (params[`ThumbprintList.member.${i + 1}`] = t));
    try {
      await query("iam", params);
      url.value = clients.value = thumbs.value = "";
      await loadProviders();
    } catch (e2) {
      showError(err, e2);
    }
  })) }, h("div", { class: "grid3" }, field("Issuer URL", url), field("Client IDs", clients, "One per line."), field("Thumbprints", thumbs, "One per line.")), h("div", { class: "row" }, addBtn));

  // SAML providers: a name and the IdP's metadata, pasted or read from a file.
  const samlErr = h("div", { class: "error", role: "alert", hidden: true });
  const samlList = h("div", { class: "table-wrap", id: "saml-providers" });
  const samlName = h("input", { name: "samlName", required: true, placeholder: "corp", autocomplete: "off", dataset: { member: "Name" } });
  const metadata = h("textarea", { name: "samlMetadata", rows: 4, class: "mono", placeholder: "<md:EntityDescriptor …>", dataset: { member: "SAMLMetadataDocument", match: "metadata" } });
  const metadataFile = h("input", { type: "file", name: "samlMetadataFile", accept: ".xml,application/xml,text/xml" });
  metadataFile.addEventListener("change", async () => {
    const f = metadataFile.files[0];
    if (f) metadata.value = await f.text();
  });
  const samlBtn = h("button", { type: "submit" }, "Add SAML provider");
  const samlAdd = h("form", { class: "stack", id: "saml-add", onsubmit: (e) => (e.preventDefault(), busy(samlBtn, async () => {
    clearError(samlErr, samlAdd);
    try {
      await query("iam", { Action: "CreateSAMLProvider", Version: "2010-05-08", Name: samlName.value.trim(), SAMLMetadataDocument: metadata.value });
      samlName.value = metadata.value = "";
      metadataFile.value = "";
      await loadSAML();
    } catch (e2) {
      showError(samlErr, e2, samlAdd);
    }
  })) }, samlErr, h("div", { class: "grid2" }, field("Name", samlName, "Letters, digits, _ . - (the ARN's last part)."), field("Metadata file", metadataFile, "Or paste the document below.")),
  field("Metadata XML", metadata, "The IdP's EntityDescriptor, with its signing certificate."), h("div", { class: "row" }, samlBtn));

  async function loadSAML() {
    const doc = await query("iam", { Action: "ListSAMLProviders", Version: "2010-05-08" });
    const rows = [...doc.querySelectorAll("SAMLProviderList > member")].map((m) => {
      const arn = m.querySelector("Arn")?.textContent || "";
      return h("tr", { dataset: { arn } }, h("td", { class: "mono" }, arn), h("td", {}, fmtTime(m.querySelector("CreateDate")?.textContent)),
        h("td", {}, fmtTime(m.querySelector("ValidUntil")?.textContent)),
        h("td", {}, h("button", { type: "button", class: "secondary small", "aria-label": `Remove ${arn}`, onclick: (e) => busy(e.target, async () => {
          clearError(samlErr);
          try {
            await query("iam", { Action: "DeleteSAMLProvider", Version: "2010-05-08", SAMLProviderArn: arn });
            await loadSAML();
          } catch (e2) {
            showError(samlErr, e2);
          }
        }) }, "Remove")));
    });
    samlList.replaceChildren(rows.length ? table("SAML providers", ["ARN", "Created", "Valid until", "Remove"], rows) : h("p", { class: "empty" }, "None registered."));
  }

  view.replaceChildren(
    h("h1", {}, "Keys"), err,
    h("section", { "aria-labelledby": "sk" }, h("h2", { id: "sk" }, "Token signing keys"),
      h("p", { class: "muted" }, "A new key is published at once and signs after a short lead, so every verifier has it first; a retired key stays in the JWKS until its tokens expire."),
      signing, h("div", { class: "row" }, rotate)),
    h("section", { "aria-labelledby": "op" }, h("h2", { id: "op" }, "OpenID Connect providers"), providers, add),
    h("section", { "aria-labelledby": "sp" }, h("h2", { id: "sp" }, "SAML providers"),
      h("p", { class: "muted" }, "IAM SAML providers of this account; a pool trusts one by its ARN (the pool form's SAML provider ARNs)."), samlList, samlAdd),
    h("section", { "aria-labelledby": "ak" }, h("h2", { id: "ak" }, "Access keys of this account"),
      h("p", { class: "muted" }, "Secrets are never shown; create and delete keys with fedid keys create / delete."), access),
  );

  const showSigning = (keys) => signing.replaceChildren(table("Signing keys", ["Key ID", "State", "Created", "Signs from", "Retired", "Leaves the JWKS"],
    keys.map((k) => h("tr", { dataset: { state: k.State } }, h("td", { class: "mono" }, k.KeyId), h("td", {}, h("span", { class: `badge ${k.State}` }, k.State)),
      h("td", {}, fmtTime(k.CreatedAt)), h("td", {}, fmtTime(k.ActiveAt)), h("td", {}, fmtTime(k.RetiredAt)), h("td", {}, fmtTime(k.ExpiresAt))))));
  rotate.addEventListener("click", () => busy(rotate, async () => {
    clearError(err);
    try {
      showSigning((await call("Fedid.RotateSigningKey")).Keys || []);
    } catch (e) {
      showError(err, e);
    }
  }));

  async function loadProviders() {
    const doc = await query("iam", { Action: "ListOpenIDConnectProviders", Version: "2010-05-08" });
    const arns = texts(doc, "OpenIDConnectProviderList > member > Arn");
    const rows = await Promise.all(arns.map(async (arn) => {
      const d = await query("iam", { Action: "GetOpenIDConnectProvider", Version: "2010-05-08", OpenIDConnectProviderArn: arn });
      return h("tr", {}, h("td", { class: "mono" }, arn), h("td", {}, texts(d, "Url")[0] || ""), h("td", {}, texts(d, "ClientIDList > member").join(", ")),
        h("td", {}, h("button", { type: "button", class: "secondary small", "aria-label": `Remove ${arn}`, onclick: (e) => busy(e.target, async () => {
          try {
            await query("iam", { Action: "DeleteOpenIDConnectProvider", Version: "2010-05-08", OpenIDConnectProviderArn: arn });
            await loadProviders();
          } catch (e2) {
            showError(err, e2);
          }
        }) }, "Remove")));
    }));
    providers.replaceChildren(rows.length ? table("OpenID Connect providers", ["ARN", "URL", "Client IDs", "Remove"], rows) : h("p", { class: "empty" }, "None registered."));
  }

  try {
    const [sk, ak] = await Promise.all([call("Fedid.ListSigningKeys"), call("Fedid.ListAccessKeys"), loadProviders(), loadSAML()]);
    showSigning(sk.Keys || []);
    const keys = ak.AccessKeys || [];
    access.replaceChildren(keys.length ? table("Access keys", ["Access key ID", "Account", "Created", "Last used"],
      keys.map((k) => h("tr", {}, h("td", { class: "mono" }, k.AccessKeyId, k.Builtin ? h("span", { class: "badge next" }, "test key") : ""), h("td", {}, k.Account),
        h("td", {}, k.Builtin ? "built in" : fmtTime(k.CreatedAt)), h("td", {}, k.Builtin ? "—" : fmtTime(k.LastUsed))))) : h("p", { class: "empty" }, "None stored."));
  } catch (e) {
    showError(err, e);
  }
}
