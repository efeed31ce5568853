// Live view: requests per second by operation and errors by code, from
// fedid_requests_total{operation,code} on /metrics, polled and diffed here;
// and the last requests of the signed-in account (Fedid.ListRecentRequests,
// what the request log records: no secret, token or login).
import { call } from "./api.js";
import { h, fmtTime } from "./dom.js";

const EVERY_MS = 2000;
const LINE = /^fedid_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** parse reads every fedid_requests_total sample: a Map of "operation\u0000code" to its count. */
export function parse(text) {
  const out = new Map();
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of m[1].matchAll(LABEL)) labels[l[1]] = l[2];
    out.set(`${labels.operation}\u0000${labels.code}`, Number(m[2]));
  }
  return out;
}

export function livePage(view) {
  const status = h("p", { class: "muted", "aria-live": "polite" }, "Waiting for two samples…");
  const ops = h("div", { class: "table-wrap", id: "live-ops" });
  const errs = h("div", { class: "table-wrap errors", id: "live-errors" });
  const totals = h("div", { class: "table-wrap", id: "live-totals" });
  const last = h("div", { class: "table-wrap", id: "live-recent" });
  view.replaceChildren(h("h1", {}, "Live"), status,
    h("div", { class: "split" },
      h("section", { "aria-labelledby": "lo" }, h("h2", { id: "lo" }, "Requests per second by operation"), ops),
      h("section", { "aria-labelledby": "le" }, h("h2", { id: "le" }, "Errors per second by code"), errs)),
    h("section", { "aria-labelledby": "lr" }, h("h2", { id: "lr" }, "Last requests"), last),
    h("section", { "aria-labelledby": "lt" }, h("h2", { id: "lt" }, "Totals since fedid started"), totals));
  let prev = null;
  let stopped = false;
  let timer;

  const bars = (caption, rows, unit) => {
    if (!rows.length) return h("p", { class: "empty" }, "Nothing in the last interval.");
    const top = Math.max(...rows.map((r) => r[1]), 0.001);
    return h("table", { class: "bars" }, h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, caption), h("th", { scope: "col", class: "num" }, unit), h("th", { scope: "col", class: "bar-col" }, h("span", { class: "sr-only" }, "bar")))),
      h("tbody", {}, rows.map(([name, v]) => {
        const bar = h("span", { class: "bar" });
        bar.style.width = `${Math.max(2, (100 * v) / top)}%`; // CSSOM, allowed by the CSP
        return h("tr", {}, h("td", { class: "mono" }, name), h("td", { class: "num" }, v.toFixed(2)), h("td", { class: "bar-col" }, bar));
      })));
  };

  async function tick() {
    if (stopped) return;
    try {
      const res = await fetch("/metrics", { credentials: "omit", cache: "no-store" });
      const now = { at: performance.now(), samples: parse(await res.text()) };
      if (prev) {
        const dt = (now.at - prev.at) / 1000;
        const byOp = new Map();
        const byCode = new Map();
        for (const [k, v] of now.samples) {
          const d = v - (prev.samples.get(k) || 0);
          if (d <= 0) continue;
          const [op, code] = k.split("\u0000");
          byOp.set(op, (byOp.get(op) || 0) + d / dt);
          if (code !== "OK") byCode.set(code, (byCode.get(code) || 0) + d / dt);
        }
        const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
        ops.replaceChildren(bars("Operation", sorted(byOp), "req/s"));
        errs.replaceChildren(bars("Error code", sorted(byCode), "err/s"));
        status.textContent = `Updated ${new Date().toLocaleTimeString()} · every ${EVERY_MS / 1000} s`;
      }
      const rows = [...now.samples].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 30);
      totals.replaceChildren(rows.length ? h("table", {}, h("caption", { class: "sr-only" }, "Totals"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Operation"), h("th", { scope: "col" }, "Code"), h("th", { scope: "col", class: "num" }, "Requests"))),
        h("tbody", {}, rows.map(([k, v]) => { const [op, code] = k.split("\u0000"); return h("tr", {}, h("td", { class: "mono" }, op), h("td", {}, code), h("td", { class: "num" }, String(v))); })))
        : h("p", { class: "empty" }, "No requests yet."));
      prev = now;
      const { Requests: reqs = [] } = await call("Fedid.ListRecentRequests");
      last.replaceChildren(reqs.length ? h("table", {}, h("caption", { class: "sr-only" }, "Last requests"),
        h("thead", {}, h("tr", {}, ["Time", "Operation", "Account", "Status", "Error", "ms", "Request ID"].map((c) =>
          h("th", { scope: "col", class: c === "ms" || c === "Status" ? "num" : "" }, c)))),
        h("tbody", {}, reqs.slice(0, 20).map((r) => h("tr", {},
          h("td", {}, fmtTime(r.Time)), h("td", { class: "mono" }, r.Operation), h("td", { class: "mono" }, r.Account || "—"),
          h("td", { class: "num" }, String(r.Status)), h("td", {}, r.ErrorCode || ""), h("td", { class: "num" }, r.LatencyMs.toFixed(1)),
          h("td", { class: "mono" }, r.RequestId)))))
        : h("p", { class: "empty" }, "No requests yet."));
    } catch (e) {
      status.textContent = `Cannot read /metrics: ${e.message}`;
    }
    timer = setTimeout(tick, EVERY_MS);
  }
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
