// A small DOM builder: every text goes in as a text node, never as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let ids = 0;
/** field is a labelled control: a <div> with a <label> bound to the control. */
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++ids}`;
  const hintEl = hint ? h("small", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  const err = h("small", { class: "field-error", id: `${control.id}-error`, role: "alert", hidden: true });
  const wrap = h("div", { class: control.type === "checkbox" ? "field check" : "field" });
  if (control.type === "checkbox") wrap.append(control, h("label", { for: control.id }, label));
  else wrap.append(h("label", { for: control.id }, label), control);
  wrap.append(hintEl || "", err);
  return wrap;
}

/** Shows an API error in box (a role=alert element), and next to the field it names. */
export function showError(box, err, form) {
  box.hidden = false;
  box.replaceChildren(h("strong", {}, err.type || "Error"), ": ", err.message || String(err));
  if (!form) return;
  for (const e of form.querySelectorAll(".field-error")) e.hidden = true;
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  const msg = err.message || "";
  // A control names its member (data-member: "'member'", "'member.1…'",
  // " Member ", "Member:" or "Member" first), phrases of the messages about
  // it (data-match, "|"-separated), or is named by its own values quoted
  // (data-match-value: each line, as "'value'").
  const names = (c) => {
    const m = c.dataset.member;
    if (m) {
      const lc = m[0].toLowerCase() + m.slice(1);
      if (msg.includes(`'${lc}'`) || msg.includes(`'${m}'`) || msg.includes(`'${lc}.`) || msg.includes(` ${m} `) || msg.includes(`${m}:`) || msg.startsWith(`${m} `)) return true;
    }
    if ((c.dataset.match || "").split("|").some((p) => p && msg.includes(p))) return true;
    return c.dataset.matchValue !== undefined && lines(c.value || "").some((v) => msg.includes(`'${v}'`));
  };
  const marked = [...form.querySelectorAll("[data-member], [data-match], [data-match-value]")].filter(names);
  for (const c of marked) {
    c.setAttribute("aria-invalid", "true");
    const e = document.getElementById(`${c.id}-error`);
    // The message once, at the most precise place: a group (the user pool
    // providers) stays quiet when one of its own controls shows it.
    if (e && !marked.some((d) => d !== c && c.contains(d))) {
      e.hidden = false;
      e.textContent = msg;
    }
  }
}

export function clearError(box, form) {
  box.hidden = true;
  box.replaceChildren();
  if (form) for (const e of form.querySelectorAll(".field-error")) e.hidden = true;
}

export const fmtTime = (v) => {
  if (v === undefined || v === null || v === "") return "—";
  const d = typeof v === "number" ? new Date(v * 1000) : new Date(v);
  return isNaN(d) ? String(v) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
};

/** lines of "k=v" into an object; empty lines ignored. */
export function parsePairs(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    if (i < 0) out[t] = "";
    else out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return out;
}

export const pairsText = (obj) => Object.entries(obj || {}).map(([k, v]) => `${k}=${v}`).join("\n");
export const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

/** busy disables a button while an async action runs. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
