// fedid admin console: a single page over fedid's own signed API.
import { call, credentials, signIn, signOut } from "./api.js";
import { h, field, showError, clearError, busy } from "./dom.js";
import { poolsPage, poolEditPage } from "./pools.js";
import { identitiesPage, identityPage } from "./identities.js";
import { tokensPage, credentialsPage } from "./tokens.js";
import { keysPage } from "./keys.js";
import { livePage } from "./live.js";

const THEME_KEY = "fedid.console.theme"; // "light", "dark" or absent (the system's)
let config = { dev: false, testKey: false, region: "us-east-1" };
let stopPage = null;
let flash = null;

function applyTheme() {
  const t = localStorage.getItem(THEME_KEY);
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
  const btn = document.getElementById("theme");
  if (btn) {
    const dark = t ? t === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
    btn.textContent = dark ? "Light theme" : "Dark theme";
    btn.setAttribute("aria-pressed", String(dark));
  }
}

function toggleTheme() {
  const t = localStorage.getItem(THEME_KEY);
  const dark = t ? t === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  localStorage.setItem(THEME_KEY, dark ? "light" : "dark");
  applyTheme();
}

/** go navigates to hash; opts.flash is a message for the next page, opts.error an error. */
function go(hash, opts = {}) {
  flash = opts.flash || opts.error ? opts : null;
  if (location.hash === hash) route();
  else location.hash = hash;
}

const NAV = [
  ["#/pools", "Pools"],
  ["#/tokens", "Tokens"],
  ["#/credentials", "Credentials"],
  ["#/keys", "Keys"],
  ["#/live", "Live"],
];

function shell() {
  const creds = credentials();
  const header = document.getElementById("top");
  header.replaceChildren(
    h("a", { class: "brand", href: "#/pools" }, "fedid", h("span", {}, " console")),
    creds
      ? h("nav", { "aria-label": "Main" }, h("ul", {}, NAV.map(([href, label]) => h("li", {}, h("a", { href, dataset: { nav: href } }, label)))))
      : "",
    h("div", { class: "who" },
      config.dev ? h("span", { class: "badge dev", title: "fedid runs with --dev" }, "dev") : "",
      creds ? h("span", { class: "mono muted", title: "Signed in with this access key" }, `${creds.accessKeyId} · ${creds.region}`) : "",
      h("button", { type: "button", id: "theme", class: "secondary small", onclick: toggleTheme }, "Theme"),
      creds ? h("button", { type: "button", id: "sign-out", class: "secondary small", onclick: () => (signOut(), go("#/sign-in")) }, "Sign out") : ""),
  );
  applyTheme();
  for (const a of header.querySelectorAll("[data-nav]")) {
    if (location.hash.startsWith(a.dataset.nav)) a.setAttribute("aria-current", "page");
  }
}

function signInPage(view) {
  const offer = config.testKey || config.dev;
  const key = h("input", { name: "accessKeyId", required: true, autocomplete: "username", value: offer ? "test" : "", spellcheck: "false" });
  const secret = h("input", { name: "secretAccessKey", type: "password", required: true, autocomplete: "current-password", value: offer ? "test" : "" });
  const region = h("input", { name: "region", required: true, value: config.region, spellcheck: "false" });
  const err = h("div", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card stack", id: "sign-in", onsubmit: (e) => (e.preventDefault(), busy(submit, async () => {
    clearError(err);
    const creds = { accessKeyId: key.value.trim(), secretAccessKey: secret.value, region: region.value.trim() };
    try {
      // Any signed read proves the key: the same check every API call gets.
      await call("ListIdentityPools", { MaxResults: 1 }, { creds });
      signIn(creds);
      go("#/pools");
    } catch (e2) {
      showError(err, e2);
    }
  })) },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted" }, "With an access key of fedid (fedid keys create). Every page calls fedid's API signed with it (SigV4), as any client does; the secret stays in this tab's session storage until you sign out or close the tab."),
  offer ? h("p", { class: "note", id: "test-key-note" }, config.dev ? "Development mode (--dev): the test key test / test is accepted and filled in." : "No access key is configured: fedid accepts the test key test / test on this loopback address, filled in.") : "",
  err,
  field("Access key ID", key), field("Secret access key", secret), field("Region", region, "The region requests are signed for; pools created get it."),
  h("div", { class: "row" }, submit));
  view.replaceChildren(form);
  (offer ? submit : key).focus();
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/pools";
  const [path, qs] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(qs || "") };
}

async function route() {
  if (stopPage) {
    stopPage();
    stopPage = null;
  }
  const view = document.getElementById("view");
  delete view.dataset.ready;
  const { parts, params } = parseHash();
  if (!credentials()) {
    if (location.hash !== "#/sign-in") {
      history.replaceState(null, "", "#/sign-in");
    }
    shell();
    signInPage(view);
    view.dataset.ready = "#/sign-in";
    return;
  }
  if (parts[0] === "sign-in") {
    history.replaceState(null, "", "#/pools");
    return route();
  }
  shell();
  view.replaceChildren();
  const f = flash;
  flash = null;
  const [a, b, c, d] = parts;
  const titles = { pools: "Pools", tokens: "Tokens", credentials: "Credentials", keys: "Keys", live: "Live" };
  document.title = `${titles[a] || "fedid"} · fedid console`;
  let done;
  if (a === "pools" && !b) done = poolsPage(view, go);
  else if (a === "pools" && b === "new") done = poolEditPage(view, null, go);
  else if (a === "pools" && c === "identities" && d) done = identityPage(view, b, d, go);
  else if (a === "pools" && c === "identities") done = identitiesPage(view, b, go);
  else if (a === "pools") done = poolEditPage(view, b, go);
  else if (a === "tokens") done = tokensPage(view, params, go);
  else if (a === "credentials") done = credentialsPage(view, go);
  else if (a === "keys") done = keysPage(view, go);
  else if (a === "live") stopPage = livePage(view);
  else view.replaceChildren(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/pools" }, "Pools")));
  await done;
  if (f) {
    const box = f.error ? h("div", { class: "error", role: "alert" }) : h("div", { class: "flash", role: "status" }, f.flash);
    if (f.error) showError(box, f.error);
    view.prepend(box);
  }
  view.querySelector("h1")?.setAttribute("tabindex", "-1");
  if (document.activeElement === document.body || !view.contains(document.activeElement)) view.querySelector("h1")?.focus({ preventScroll: true });
  view.dataset.ready = location.hash;
}

async function start() {
  try {
    const res = await fetch("/console/config.json", { credentials: "omit" });
    if (res.ok) config = { ...config, ...(await res.json()) };
  } catch {
    // defaults
  }
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
  window.addEventListener("hashchange", route);
  route();
}

start();
