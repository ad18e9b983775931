// The v2mom-sync dashboard: plain JavaScript over the app's own JSON API, no external assets.
// The session is an HTTP-only cookie set by POST /api/session; writes send the X-V2MOM-CSRF header.
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};
// A tracker's item link is shown as a link only when it is an absolute http(s) URL: anything else
// (javascript:, data:, a relative path) is shown as plain text, whatever the API sent.
const webHref = (url) => {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? url : null;
  } catch {
    return null; // not an absolute URL
  }
};
const itemLink = (url, text, attrs = {}) => {
  const href = webHref(url);
  return href ? el("a", { href, rel: "noopener", ...attrs, text }) : text;
};
const fmt = (n) => (Math.round(n * 100) / 100).toLocaleString("en-US");
const pct = (n) => (n === null || n === undefined ? "—" : `${(n * 100).toFixed(1)}%`);

let session = null;
let plan = null;
let flagKind = "untagged";
let lastPreview = null;

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: { Accept: "application/json" }, ...options };
  if (options.body !== undefined) {
    init.headers = { ...init.headers, "Content-Type": "application/json", "X-V2MOM-CSRF": "1" };
    init.body = JSON.stringify(options.body);
  } else if (options.method && options.method !== "GET") {
    init.headers = { ...init.headers, "X-V2MOM-CSRF": "1" };
  }
  const answer = await fetch(path, init);
  const body = answer.headers.get("content-type")?.includes("json") ? await answer.json() : null;
  if (!answer.ok) {
    const detail = body?.detail;
    const message = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : detail || answer.statusText;
    const error = new Error(message);
    error.status = answer.status;
    throw error;
  }
  return body;
}

// -- filters live in the URL, so a view can be shared -------------------------------------------

function filters() {
  const params = new URLSearchParams(location.search);
  return {
    from: params.get("from") || "",
    to: params.get("to") || "",
    measure: params.get("measure") || "points",
    state: params.get("state") || "all",
    tracker: params.get("tracker") || "",
  };
}

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters(), ...extra })) if (v) params.set(k, v);
  return params.toString();
}

function bindFilters() {
  const form = $("#filters");
  const current = filters();
  for (const [name, value] of Object.entries(current)) form.elements[name].value = value;
  form.addEventListener("change", () => {
    const params = new URLSearchParams();
    for (const name of ["from", "to", "measure", "state", "tracker"]) {
      const value = form.elements[name].value;
      if (value && !(name === "measure" && value === "points") && !(name === "state" && value === "all")) params.set(name, value);
    }
    history.replaceState(null, "", `${location.pathname}${params.toString() ? "?" + params : ""}`);
    refresh();
  });
}

// -- the report ----------------------------------------------------------------------------------

function renderChart(report) {
  const rows = [...report.values.map((v) => ({ label: v.name, share: v.share, target: v.target_share, cls: "bar", id: v.id })),
    { label: "Untagged", share: report.untagged.share, target: null, cls: "untagged", id: "untagged" }];
  const width = 720, barH = 26, gap = 14, left = 230, right = 70;
  const height = rows.length * (barH + gap) + 10;
  const scale = (width - left - right);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Share of effort per value with targets; the table below has the same numbers");
  rows.forEach((row, i) => {
    const y = 5 + i * (barH + gap);
    const add = (tag, attrs, text) => {
      const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text !== undefined) node.textContent = text;
      svg.append(node);
      return node;
    };
    add("text", { x: 0, y: y + barH * 0.7 }, row.label.length > 30 ? row.label.slice(0, 29) + "…" : row.label);
    const bar = add("rect", { x: left, y, width: Math.max(1, row.share * scale), height: barH, class: row.cls, "data-value": row.id, "data-share": row.share });
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${row.label}: ${pct(row.share)}` + (row.target !== null && row.target !== undefined ? `, target ${pct(row.target)}` : "");
    bar.append(title);
    add("text", { x: left + row.share * scale + 6, y: y + barH * 0.7, class: "share-label" }, pct(row.share));
    if (row.target !== null && row.target !== undefined) {
      add("line", { x1: left + row.target * scale, x2: left + row.target * scale, y1: y - 4, y2: y + barH + 4, class: "target", "data-target": row.target });
    }
  });
  $("#chart").replaceChildren(svg);
}

function renderValues(report) {
  const body = $("#values tbody");
  body.replaceChildren();
  for (const value of report.values) {
    const drift = value.target_share === null || value.target_share === undefined ? null : value.share - value.target_share;
    const toggle = el("button", { type: "button", "aria-expanded": "false", "aria-label": `Methods of ${value.name}`, text: "▸" });
    const row = el("tr", { "data-value": value.id },
      el("th", { scope: "row" }, toggle, " ", value.name),
      el("td", { class: "num effort", text: fmt(value.effort) }),
      el("td", { class: "num share", text: pct(value.share) }),
      el("td", { class: "num", text: pct(value.target_share) }),
      el("td", { class: "num " + (drift === null ? "" : drift >= 0 ? "drift-pos" : "drift-neg"), text: drift === null ? "—" : `${drift >= 0 ? "+" : ""}${(drift * 100).toFixed(1)} pts` }));
    body.append(row);
    const methodRows = value.methods.map((m) => el("tr", { class: "method", hidden: "" },
      el("td", { text: m.name }), el("td", { class: "num", text: fmt(m.effort) }),
      el("td", { class: "num", text: pct(report.total.effort ? m.effort / report.total.effort : 0) }), el("td"), el("td")));
    methodRows.forEach((r) => body.append(r));
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "▾" : "▸";
      methodRows.forEach((r) => (r.hidden = !open));
    });
  }
  body.append(el("tr", { "data-value": "untagged" },
    el("th", { scope: "row", text: "Untagged" }), el("td", { class: "num effort", text: fmt(report.untagged.effort) }),
    el("td", { class: "num share", text: pct(report.untagged.share) }), el("td"), el("td")));
  $("#total").textContent = `${fmt(report.total.effort)} ${report.measure} over ${report.total.items} items` +
    ` · orphaned ${fmt(report.orphaned.effort)} (${report.orphaned.items} items)`;
}

function renderFreshness(report) {
  const list = $("#freshness");
  list.replaceChildren();
  for (const [tracker, f] of Object.entries(report.freshness)) {
    list.append(el("li", { "data-tracker": tracker, text:
      `${tracker}: synced ${f.last_sync ? f.last_sync.replace("T", " ").replace("Z", " UTC") : "never"}` +
      ` · last webhook ${f.last_event ? f.last_event.replace("T", " ").replace("Z", " UTC") : "never"}` +
      ` · backlog ${f.backlog}` + (f.parked ? ` · ${f.parked} parked` : "") +
      (f.interrupted_at ? ` · sync started ${f.interrupted_at.replace("T", " ").replace("Z", " UTC")} was interrupted` : "") }));
  }
}

async function renderMeasures() {
  const done = await api(`/api/reports/effort-by-value?${query({ state: "done" })}`);
  const shares = Object.fromEntries(done.values.map((v) => [v.id, v.share]));
  const list = $("#measures");
  list.replaceChildren();
  for (const m of plan.measures || []) {
    if (m.kind !== "effort_share") continue;
    const actual = shares[m.value] ?? 0;
    const met = actual >= m.target;
    list.append(el("li", { class: met ? "met" : "missed", "data-measure": m.id,
      text: `${m.name}: ${pct(actual)} of done effort (target ${pct(m.target)}) — ${met ? "met" : "not met"}` }));
  }
  const report = await api(`/api/reports/obstacles?${query({ state: "", from: "", to: "" })}`);
  const obstacles = $("#obstacles");
  obstacles.replaceChildren();
  for (const o of report.obstacles) {
    const methods = o.methods.join(", ") || "no methods";
    const entry = el("li", { "data-obstacle": o.id },
      el("strong", { text: o.name }),
      `: ${fmt(o.blocked_effort)} ${report.measure} blocked in ${o.blocked_items} item${o.blocked_items === 1 ? "" : "s"} ` +
      `of ${methods} (${fmt(o.open_effort)} open in all)`);
    if (o.items.length) {
      entry.append(el("ul", { class: "blocked-items" }, ...o.items.map((item) => {
        const label = `${item.tracker}:${item.key}`;
        const link = itemLink(item.url, label, { class: "item-link" });
        return el("li", {}, link, ` ${item.title} — ${item.status || "blocked"}, ${fmt(item.effort)} ${report.measure}`);
      })));
    }
    obstacles.append(entry);
  }
}

const PALETTE = ["#2d6cdf", "#1e7b34", "#b3541e", "#7a3db8", "#a0266b", "#3d7f8c"];

async function renderTrend() {
  const trend = await api(`/api/reports/trend?${query({ state: "" })}`);
  const series = [...plan.values.map((v, i) => ({ id: v.id, name: v.name, color: PALETTE[i % PALETTE.length] })),
    { id: "untagged", name: "Untagged", color: "#9aa4b2" }];
  const at = (week, id) => (id === "untagged" ? week.untagged : week.values[id] || 0);
  const head = $("#trend thead");
  head.replaceChildren(el("tr", {}, el("th", { scope: "col", text: "Week" }), ...series.map((s) => el("th", { scope: "col", class: "num", text: s.name }))));
  const body = $("#trend tbody");
  body.replaceChildren(...trend.weeks.map((w) => el("tr", { "data-week": w.week },
    el("th", { scope: "row", text: `${w.week} (${w.start})` }), ...series.map((s) => el("td", { class: "num", text: fmt(at(w, s.id)) })))));
  const width = 720, height = 220, left = 40, bottom = 24, top = 10;
  const max = Math.max(1, ...trend.weeks.flatMap((w) => series.map((s) => at(w, s.id))));
  const x = (i) => left + (trend.weeks.length > 1 ? (i * (width - left - 10)) / (trend.weeks.length - 1) : 0);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Done effort per value and week; the table below has the numbers");
  for (const s of series) {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", trend.weeks.map((w, i) => `${x(i)},${y(at(w, s.id))}`).join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", s.color);
    line.setAttribute("stroke-width", "2.5");
    line.setAttribute("data-series", s.id);
    const title = document.createElementNS(ns, "title");
    title.textContent = s.name;
    line.append(title);
    svg.append(line);
  }
  trend.weeks.forEach((w, i) => {
    if (i % 2) return;
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", x(i) - 14);
    label.setAttribute("y", height - 6);
    label.textContent = w.week.slice(5);
    svg.append(label);
  });
  const legend = el("p", { class: "legend" }, ...series.map((s) => {
    const swatch = el("span", { text: `■ ${s.name}  ` });
    swatch.style.color = s.color; // CSSOM, not an inline style attribute: the CSP allows it
    return swatch;
  }));
  $("#trend-chart").replaceChildren(svg, legend);
}

async function renderFlags() {
  const f = filters();
  const params = new URLSearchParams({ kind: flagKind, limit: "20", measure: f.measure });
  if (f.tracker) params.set("tracker", f.tracker);
  const page = await api(`/api/reports/flags?${params}`);
  const body = $("#flags tbody");
  const taggable = session.role === "admin" && TAGGABLE.has(flagKind);
  body.replaceChildren();
  for (const item of page.items) {
    const link = itemLink(item.url, `${item.tracker}:${item.key}`, { class: "item-link" });
    const explain = el("button", { type: "button", text: "Explain", "aria-label": `Explain ${item.tracker}:${item.key}` });
    explain.addEventListener("click", () => showExplain(item.tracker, item.key));
    const actions = el("td", { class: "actions" }, explain);
    if (taggable) actions.append(tagControl(item));
    body.append(el("tr", { "data-item": `${item.tracker}:${item.key}` }, el("td", {}, link, " ", item.title),
      el("td", { class: "num", text: fmt(item.effort) }), el("td", { text: item.reasons.join("; ") }), actions));
  }
  if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: "4", text: "Nothing flagged." })));
}

// -- admin: tag an untagged or orphaned item from the list (written to its tracker) --------------

const TAGGABLE = new Set(["untagged", "orphaned"]);

function tagStatus(text, failed = false) {
  const status = $("#tag-status");
  status.textContent = text;
  status.classList.toggle("error", failed);
}

function tagControl(item) {
  const name = `${item.tracker}:${item.key}`;
  const option = (kind, x) => el("option", { value: x.id, "data-kind": kind, text: `${kind === "value" ? "Value" : "Method"}: ${x.name}` });
  const select = el("select", { name: "tag", "aria-label": `Value or method to tag ${name} with` },
    el("optgroup", { label: "Values" }, ...(plan.values || []).map((v) => option("value", v))),
    el("optgroup", { label: "Methods" }, ...(plan.methods || []).map((m) => option("method", m))));
  const button = el("button", { type: "submit", text: "Tag", "aria-label": `Tag ${name}` });
  if (!select.options.length) button.disabled = true; // a plan with nothing to choose
  const form = el("form", { class: "tag-form" }, select, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = select.selectedOptions[0];
    if (!chosen) return;
    const kind = chosen.dataset.kind;
    const label = chosen.textContent;
    const row = [...$("#flags tbody").rows].indexOf(form.closest("tr"));
    button.disabled = true;
    tagStatus(`Tagging ${name} with ${label}…`);
    try {
      const doc = await api(`/api/items/${encodeURIComponent(item.tracker)}/${encodeURIComponent(item.key)}/tags`,
        { method: "POST", body: { [kind]: chosen.value } });
      const later = doc.read_back === "pending"
        ? ` ${item.tracker} took it, but reading it back failed; its webhook or the next sync will bring its copy.`
        : "";
      tagStatus(`Tagged ${item.tracker}:${doc.key} with ${label}; the report is updated.${later}`);
      await refresh();
      // The tagged row has left the list: keep the keyboard where it was, on the next row's choice.
      const next = $("#flags tbody").rows[Math.max(0, row)]?.querySelector("select") || $("#flag-tabs [aria-selected=true]");
      next?.focus();
    } catch (error) {
      tagStatus(`Could not tag ${name}: ${error.message}`, true);
      button.disabled = false;
    }
  });
  return form;
}

// -- the explanation of one item (also the page /items/{tracker}/{key} that trackers link to) ----

async function showExplain(tracker, key) {
  const box = $("#explain");
  let doc;
  try {
    doc = await api(`/api/items/${encodeURIComponent(tracker)}/${encodeURIComponent(key)}`);
  } catch (error) {
    const why = error.status === 404
      ? `v2mom-sync knows no item ${tracker}:${key}. It may have been deleted or moved out of scope, or not be synced yet.`
      : `Cannot show ${tracker}:${key}: ${error.message}`;
    box.replaceChildren(el("h3", { text: `No explanation for ${tracker}:${key}` }), el("p", { class: "error", id: "explain-missing", text: why }));
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
    box.focus({ preventScroll: true });
    return false;
  }
  const r = doc.resolution || {};
  const title = el("h3", { text: `Why ${tracker}:${doc.key} — ${doc.item.title}` });
  const parts = [title];
  if (webHref(doc.item.url)) parts.push(el("p", {}, itemLink(doc.item.url, `Open ${tracker}:${doc.key} in ${tracker}`)));
  if (doc.deleted) parts.push(el("p", { class: "error", text: "This item was deleted in its tracker." }));
  parts.push(el("p", { text: `Values: ${Object.entries(r.values || {}).map(([v, w]) => `${v} ${pct(w)}`).join(", ") || "none"}` +
      ` · methods: ${(r.methods || []).join(", ") || "none"} · flags: ${(r.flags || []).join(", ") || "none"}` }),
    el("ul", {}, ...doc.explanation.concat(r.reasons || []).map((line) => el("li", { text: line }))));
  box.replaceChildren(...parts);
  box.dataset.item = `${tracker}:${doc.key}`;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
  box.focus({ preventScroll: true });
  return true;
}

// The page's own item, when the path is /items/{tracker}/{key} (the links written into the trackers).
function itemFromPath() {
  const match = /^\/items\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  if (!match) return null;
  try {
    return { tracker: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) };
  } catch {
    return null;
  }
}

async function openItemFromPath() {
  const target = itemFromPath();
  if (!target) return;
  document.title = `v2mom-sync — why ${target.tracker}:${target.key}`;
  await showExplain(target.tracker, target.key);
  $("#explain").scrollIntoView({ block: "start" });
  document.body.dataset.explained = "true";
}

// -- admin: rules with a preview before they apply -------------------------------------------------

function describeRule(rule) {
  const when = Object.entries(rule.when).map(([k, v]) => `${k} = ${v}`).join(" and ");
  return [when, rule.method ? `method ${rule.method}` : `value ${rule.value}`];
}

function ruleFromForm() {
  const form = $("#rule-form");
  const when = {};
  if (form.elements.tracker.value) when.tracker = form.elements.tracker.value;
  when[form.elements.key.value] = form.elements.match.value.trim();
  if (form.elements.key.value === "custom_field") when.equals = form.elements.equals.value.trim();
  return { when, [form.elements.target.value]: form.elements.target_id.value };
}

function loadRule(rule) {
  const form = $("#rule-form");
  const when = { ...rule.when };
  form.elements.tracker.value = when.tracker || "";
  delete when.tracker;
  const equals = when.equals || "";
  delete when.equals;
  const [key, match] = Object.entries(when)[0] || ["label", ""];
  form.elements.key.value = key;
  form.elements.match.value = match;
  form.elements.equals.value = equals;
  form.elements.target.value = rule.method ? "method" : "value";
  fillTargets();
  form.elements.target_id.value = rule.method || rule.value;
  form.elements.position.value = String(rule.position);
  form.querySelector("legend").textContent = `Edit rule ${rule.position}`;
  $("#apply").disabled = true;
  form.elements.match.focus();
}

function ruleTarget() {
  const position = $("#rule-form").elements.position.value;
  return position === "" ? { path: "/api/admin/rules", method: "POST" } : { path: `/api/admin/rules/${position}`, method: "PUT" };
}

function fillTargets() {
  const form = $("#rule-form");
  const items = form.elements.target.value === "method" ? plan.methods : plan.values;
  form.elements.target_id.replaceChildren(...items.map((x) => el("option", { value: x.id, text: `${x.id} — ${x.name}` })));
}

async function renderAdmin() {
  const { rules } = await api("/api/admin/rules");
  const body = $("#rules tbody");
  body.replaceChildren();
  for (const rule of rules) {
    const [when, then] = describeRule(rule);
    const remove = el("button", { type: "button", text: "Delete", "aria-label": `Delete rule ${rule.position}` });
    remove.addEventListener("click", async () => {
      const preview = await api(`/api/admin/rules/${rule.position}?dry_run=true&measure=${filters().measure}`, { method: "DELETE" });
      if (!confirm(`Delete rule ${rule.position}? It ${preview.preview.summary}.`)) return;
      await api(`/api/admin/rules/${rule.position}`, { method: "DELETE" });
      await refresh();
    });
    const edit = el("button", { type: "button", text: "Edit", "aria-label": `Edit rule ${rule.position}` });
    edit.addEventListener("click", () => loadRule(rule));
    const move = (delta, label) => {
      const button = el("button", { type: "button", text: label, "aria-label": `Move rule ${rule.position} ${delta < 0 ? "up" : "down"}` });
      const target = rule.position + delta;
      if (target < 0 || target >= rules.length) button.disabled = true;
      button.addEventListener("click", async () => {
        const order = rules.map((r) => r.position);
        [order[rule.position], order[target]] = [order[target], order[rule.position]];
        await api("/api/admin/rules/reorder", { method: "POST", body: { order } });
        await refresh();
      });
      return button;
    };
    body.append(el("tr", { "data-position": String(rule.position) }, el("td", { text: String(rule.position) }), el("td", { text: when }), el("td", { text: then }),
      el("td", {}, edit, move(-1, "↑"), move(1, "↓"), remove)));
  }
  if (!$("#plan-json").dataset.dirty) $("#plan-json").value = JSON.stringify(plan, null, 2);
  const audit = await api("/api/admin/audit?limit=10");
  $("#audit").replaceChildren(...audit.entries.map((e) => el("li", { text: `v${e.version} · ${e.at} · ${e.actor}: ${e.changes.join("; ")}` })));
  await renderTokens();
}

// -- admin: API tokens (the secret is shown once, when created) ---------------------------------

const when = (iso) => (iso ? iso.replace("T", " ").slice(0, 16) : "never");

async function renderTokens() {
  const { tokens } = await api("/api/admin/tokens");
  const body = $("#tokens tbody");
  body.replaceChildren();
  for (const token of tokens) {
    const status = token.revoked_at ? `revoked ${when(token.revoked_at)}` : token.current ? "live (this session)" : "live";
    const cell = el("td");
    if (!token.revoked_at) {
      const revoke = el("button", { type: "button", class: "revoke", text: "Revoke", "aria-label": `Revoke ${token.name}` });
      revoke.addEventListener("click", async () => {
        if (token.current && !confirm("This is the token of your own session: revoking it signs you out. Revoke?")) return;
        try {
          await api(`/api/admin/tokens/${token.id}`, { method: "DELETE" });
          if (token.current) location.reload();
          else await renderTokens();
        } catch (error) {
          $("#token-error").textContent = error.message;
        }
      });
      cell.append(revoke);
    }
    body.append(el("tr", { "data-token": String(token.id) }, el("td", { text: token.name }), el("td", { text: token.role }),
      el("td", { text: when(token.created_at) }), el("td", { text: when(token.last_used_at) }), el("td", { class: "status", text: status }), cell));
  }
}

function bindTokens() {
  const form = $("#token-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#token-error").textContent = "";
    try {
      const created = await api("/api/admin/tokens", { method: "POST", body: { name: form.elements.name.value, role: form.elements.role.value } });
      $("#token-secret").replaceChildren(`New ${created.role} token "${created.name}" — copy it now, it is not shown again: `,
        el("code", { id: "token-value", text: created.token }));
      form.reset();
      await renderTokens();
    } catch (error) {
      $("#token-error").textContent = error.message;
    }
  });
}

function bindPlanEditor() {
  const text = $("#plan-json");
  const parse = () => {
    try {
      return JSON.parse(text.value);
    } catch (error) {
      throw new Error(`the plan is not valid JSON: ${error.message}`);
    }
  };
  text.addEventListener("input", () => { text.dataset.dirty = "1"; $("#plan-apply").disabled = true; $("#plan-preview-text").textContent = ""; });
  $("#plan-preview").addEventListener("click", async () => {
    $("#plan-error").textContent = "";
    try {
      const answer = await api(`/api/admin/plan?dry_run=true&measure=${filters().measure}`, { method: "PUT", body: parse() });
      $("#plan-preview-text").textContent = `${answer.changes.join("; ")} — this plan ${answer.preview.summary}.`;
      $("#plan-apply").disabled = false;
    } catch (error) {
      $("#plan-error").textContent = error.message;
    }
  });
  $("#plan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api("/api/admin/plan", { method: "PUT", body: parse() });
      $("#plan-preview-text").textContent = `Applied: plan version ${answer.version}.`;
      $("#plan-apply").disabled = true;
      delete text.dataset.dirty;
      await refresh();
    } catch (error) {
      $("#plan-error").textContent = error.message;
    }
  });
}

function bindAdmin() {
  bindPlanEditor();
  const form = $("#rule-form");
  form.elements.target.addEventListener("change", fillTargets);
  form.addEventListener("input", () => { $("#apply").disabled = true; $("#preview-text").textContent = ""; });
  $("#preview").addEventListener("click", async () => {
    $("#rule-error").textContent = "";
    try {
      const target = ruleTarget();
      const answer = await api(`${target.path}?dry_run=true&measure=${filters().measure}`, { method: target.method, body: { rule: ruleFromForm() } });
      lastPreview = answer;
      $("#preview-text").textContent = `This rule ${answer.preview.summary}.`;
      $("#apply").disabled = false;
    } catch (error) {
      $("#rule-error").textContent = error.message;
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const target = ruleTarget();
      const answer = await api(target.path, { method: target.method, body: { rule: ruleFromForm() } });
      $("#preview-text").textContent = `Applied: plan version ${answer.version}; ${answer.preview.summary}.`;
      $("#apply").disabled = true;
      form.elements.position.value = "";
      form.querySelector("legend").textContent = "Add a rule";
      await refresh();
    } catch (error) {
      $("#rule-error").textContent = error.message;
    }
  });
}

// -- start ---------------------------------------------------------------------------------------

async function refresh() {
  plan = await api("/api/plan");
  $("#vision").textContent = plan.vision || "";
  const report = await api(`/api/reports/effort-by-value?${query()}`);
  renderFreshness(report);
  renderChart(report);
  renderValues(report);
  await Promise.all([renderMeasures(), renderFlags(), renderTrend()]);
  if (session.role === "admin") await renderAdmin();
  document.body.dataset.ready = "true";
}

async function start() {
  try {
    session = await api("/api/session");
  } catch (error) {
    if (error.status !== 401) throw error;
    $("#login").hidden = false;
    $("#token").focus();
    return;
  }
  $("#who").hidden = false;
  $("#who-name").textContent = `${session.name} (${session.role})`;
  $("#main").hidden = false;
  if (session.role === "admin") {
    $("#admin").hidden = false;
  }
  bindFilters();
  for (const tab of document.querySelectorAll("#flag-tabs [role=tab]")) {
    tab.addEventListener("click", async () => {
      flagKind = tab.dataset.kind;
      document.querySelectorAll("#flag-tabs [role=tab]").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
      await renderFlags();
    });
  }
  await refresh();
  await openItemFromPath();
  if (session.role === "admin") {
    fillTargets();
    bindAdmin();
    bindTokens();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/session", { method: "POST", body: { token: $("#token").value } });
      location.reload();
    } catch (error) {
      $("#login-error").textContent = error.message;
    }
  });
  $("#logout").addEventListener("click", async () => {
    await api("/api/session", { method: "DELETE" });
    location.reload();
  });
  start().catch((error) => { document.body.dataset.error = error.message; });
});
