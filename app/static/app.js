// The v2mom-sync dashboard: plain JavaScript over the app's own JSON API, no external assets.
// The session is an HTTP-only cookie set by POST /api/session; writes send the X-V2MOM-CSRF header.
//
// Pages, each with its own URL (the server answers every path in PAGES with this document, so deep
// links, refreshes and the back button work): a small router over history.pushState shows one
// <section class="page"> at a time. A page is an entry in PAGES (its path, title, who sees it) and a
// render function in RENDER; a later page (people's time) is one more of each.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};
const SVG = "http://www.w3.org/2000/svg";
const svgEl = (tag, attrs = {}, text) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
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
const TRACKER_NAMES = { jira: "Jira", asana: "Asana", linear: "Linear" };
const trackerName = (t) => TRACKER_NAMES[t] || t;
const trackerLink = (url, text, attrs = {}) => {
  const href = webHref(url);
  return href ? el("a", { href, rel: "noopener", ...attrs, text }) : el("span", { class: "plain-url", text });
};
const itemPath = (tracker, key) => `/items/${encodeURIComponent(tracker)}/${encodeURIComponent(key)}`;
const itemRef = (tracker, key) => el("a", { href: itemPath(tracker, key), "data-link": true, class: "item-ref", text: `${tracker}:${key}` });

const fmt = (n) => (Math.round((Number(n) || 0) * 100) / 100).toLocaleString("en-US");
const pct = (n) => (n === null || n === undefined ? "—" : `${(n * 100).toFixed(1)}%`);
const plural = (n, one, many = `${one}s`) => `${fmt(n)} ${Math.abs(n) === 1 ? one : many}`;
// A unit's name for one and for many; FTE always with two decimals ("3.20 FTE").
const UNITS = { points: ["point", "points"], hours: ["hour", "hours"], count: ["item", "items"],
  person_days: ["person-day", "person-days"], fte: ["FTE", "FTE", 2] };
const amount = (n, measure) => {
  const [one, many, digits] = UNITS[measure] || [measure, measure];
  return digits ? `${(Number(n) || 0).toFixed(digits)} ${many}` : plural(n, one, many);
};
const unitOf = (measure) => (UNITS[measure] || [measure, measure])[1];
// People's time: the reports that take these measures say over how many working days and people.
const TIME_MEASURES = ["person_days", "fte"];
const isTime = (measure) => TIME_MEASURES.includes(measure);

// Times as people read them: "2026-12-04 16:00 UTC" (never raw ISO with microseconds).
function when(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}
function ago(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const seconds = Math.max(0, (Date.now() - d.getTime()) / 1000);
  if (seconds < 60) return "just now";
  const steps = [[60, "minute"], [3600, "hour"], [86400, "day"]];
  let [size, name] = steps[0];
  for (const step of steps) if (seconds >= step[0]) [size, name] = step;
  return `${plural(Math.floor(seconds / size), name)} ago`;
}
const timeEl = (iso) => (iso ? el("time", { datetime: iso, title: iso, text: when(iso) }) : document.createTextNode("never"));

// -- the API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const init = { credentials: "same-origin", method: options.method || "GET", headers };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  if (init.method !== "GET") headers["X-V2MOM-CSRF"] = "1";
  let answer;
  try {
    answer = await fetch(path, init);
  } catch (error) {
    throw new ApiError(`the server did not answer (${error.message})`, 0, null);
  }
  let body = null;
  if (answer.headers.get("content-type")?.includes("json")) {
    try {
      body = await answer.json();
    } catch {
      body = null;
    }
  }
  if (!answer.ok) {
    const detail = body?.detail;
    const message = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : detail || answer.statusText || `HTTP ${answer.status}`;
    throw new ApiError(message, answer.status, body);
  }
  return body;
}

// -- state ---------------------------------------------------------------------------------------

let session = null;
let plan = null;
let routeSeq = 0;
let firstRoute = true;

async function loadPlan(force = false) {
  if (!plan || force) plan = await api("/api/plan");
  return plan;
}
const valueName = (id) => plan?.values?.find((v) => v.id === id)?.name || id;
const methodName = (id) => plan?.methods?.find((m) => m.id === id)?.name || id;

// -- pages and the router ------------------------------------------------------------------------

const PAGES = [
  { id: "overview", path: "/", title: "Overview", nav: true, carries: true },
  { id: "values", path: "/values", title: "Values", nav: true, carries: true },
  { id: "teams", path: "/teams", title: "Teams", nav: true, carries: true },
  { id: "attention", path: "/attention", title: "Attention", nav: true },
  { id: "reviews", path: "/reviews", title: "Reviews", nav: true },
  { id: "plan", path: "/plan", title: "Plan & rules", nav: true, admin: true },
  { id: "audit", path: "/audit", title: "Audit", nav: true, admin: true },
  { id: "access", path: "/access", title: "Access", nav: true, admin: true },
  { id: "health", path: "/health", title: "Health", nav: true },
  { id: "item", title: "Item" },
];
const ROUTES = [
  [/^\/$/, "overview"],
  [/^\/values\/?$/, "values"],
  [/^\/values\/([^/]+)\/?$/, "values"],
  [/^\/teams\/?$/, "teams"],
  [/^\/teams\/([^/]+)\/?$/, "teams"],
  [/^\/attention\/?$/, "attention"],
  [/^\/reviews\/?$/, "reviews"],
  [/^\/reviews\/([^/]+)\/([^/]+)\/?$/, "reviews"],
  [/^\/items\/([^/]+)\/([^/]+)\/?$/, "item"],
  [/^\/plan\/?$/, "plan"],
  [/^\/audit\/?$/, "audit"],
  [/^\/access\/?$/, "access"],
  [/^\/health\/?$/, "health"],
];

function match(pathname) {
  for (const [pattern, id] of ROUTES) {
    const found = pattern.exec(pathname);
    if (!found) continue;
    try {
      return { page: PAGES.find((p) => p.id === id), params: found.slice(1).map(decodeURIComponent) };
    } catch {
      return null; // a malformed escape in the path
    }
  }
  return null;
}

function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  return route();
}

function renderNav() {
  const list = $("#nav-list");
  const query = reportQuery();
  list.replaceChildren(...PAGES.filter((p) => p.nav && (!p.admin || session?.role === "admin")).map((p) =>
    el("li", {}, el("a", { href: p.carries && query ? `${p.path}?${query}` : p.path, "data-link": true, "data-page": p.id, text: p.title }))));
  markNav();
}

function markNav() {
  const current = document.body.dataset.page;
  for (const link of $$("#nav-list a")) {
    if (link.dataset.page === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function closeNav() {
  $("#nav").classList.remove("open");
  $("#nav-toggle").setAttribute("aria-expanded", "false");
}

function showError(text) {
  const banner = $("#page-error");
  banner.textContent = text;
  banner.hidden = !text;
}

async function route() {
  const seq = ++routeSeq;
  const found = match(location.pathname);
  document.body.dataset.ready = "false";
  showError("");
  closeNav();
  for (const section of $$(".page")) section.hidden = true;
  if (!found) {
    document.title = "Not found — v2mom-sync";
    document.body.dataset.page = "missing";
    markNav();
    showError(`There is no page at ${location.pathname}. Pick one from the menu.`);
    document.body.dataset.ready = "true";
    return;
  }
  const { page, params } = found;
  document.body.dataset.page = page.id;
  document.title = `${page.title} — v2mom-sync`;
  markNav();
  const section = $(`#page-${page.id}`);
  section.hidden = false;
  if (!firstRoute || page.id === "item") $("h1", section).focus({ preventScroll: true });
  firstRoute = false;
  try {
    if (page.admin && session.role !== "admin") {
      throw new Error(`${page.title} is for admins; you are signed in as ${session.name} (${session.role}).`);
    }
    await RENDER[page.id](...params);
  } catch (error) {
    if (seq === routeSeq) showError(`Could not show this page: ${error.message}`);
  } finally {
    if (seq === routeSeq) {
      document.body.dataset.ready = "true";
      performance.mark("v2mom-ready"); // when the page's data is shown (scripts/screenshot.py --timings)
    }
  }
}

// In-page links (data-link, or any same-origin link to one of the pages) change the page without a
// reload; a modified click (new tab) or another origin is left to the browser.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.target && link.target !== "_self") return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !match(url.pathname) || !session) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => { if (session) route(); });

// -- report filters live in the URL, so a view can be shared ------------------------------------

// Every page with filters has these; the Teams page adds a review period (PERIOD_FILTERS), which
// stands for its dates, so it is not carried to the pages that have no period to show.
const FILTERS = ["from", "to", "measure", "state", "tracker"];
const PERIOD_FILTERS = [...FILTERS, "period"];
const DEFAULTS = { measure: "points", state: "all" };

function filters(names = FILTERS) {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(names.map((name) => [name, params.get(name) || DEFAULTS[name] || ""]));
}

function reportQuery(values = filters(), extra = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...values, ...extra })) if (v && DEFAULTS[k] !== v) params.set(k, v);
  return params.toString();
}

// Kept per page: the filters its numbers were computed with, so a bad filter leaves them shown, marked
// stale, with the reason next to the inputs.
const good = {};

function filterProblem(values) {
  if (values.from && values.to && values.from > values.to) {
    return `"From" (${values.from}) is after "To" (${values.to}): pick a From on or before the To.`;
  }
  return null;
}

function markStale(section, problem) {
  const form = $("form[data-filters]", section);
  const report = $("[data-report]", section);
  const note = $(".stale-note", section);
  $(".filter-error", form).textContent = problem || "";
  for (const name of ["from", "to"]) {
    if (problem && /"(From|To)"/.test(problem)) form.elements[name].setAttribute("aria-invalid", "true");
    else form.elements[name].removeAttribute("aria-invalid");
  }
  if (problem) {
    report.dataset.stale = "true";
    const last = good[section.id];
    note.textContent = last
      ? `Stale: these numbers are still those of the last valid filters (${describeFilters(last)}), not of the filters above.`
      : "No numbers for these filters yet: correct them above.";
    note.hidden = false;
  } else {
    delete report.dataset.stale;
    note.hidden = true;
  }
}

function describeFilters(values) {
  const parts = [`${values.measure}`, `${values.state} work`];
  if (values.tracker) parts.push(values.tracker);
  if (values.period) parts.push(`period ${values.period}`);
  if (values.from || values.to) parts.push(`${values.from || "…"} to ${values.to || "…"}`);
  return parts.join(", ");
}

function bindFilterForm(section, rerender, names = FILTERS) {
  const form = $("form[data-filters]", section);
  if (form.dataset.bound) return;
  form.dataset.bound = "true";
  // Changes re-render one after another, and a change overtaken by a newer one is skipped: numbers
  // that arrive late never overwrite those of the filters shown, and the page is ready once the
  // newest change is rendered.
  let latest = 0;
  let queue = Promise.resolve();
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", (event) => {
    // A period stands for its dates: choosing one clears From and To, and a date clears the period.
    if (form.elements.period) {
      if (event.target.name === "period" && event.target.value) form.elements.from.value = form.elements.to.value = "";
      if ((event.target.name === "from" || event.target.name === "to") && event.target.value) form.elements.period.value = "";
    }
    const values = Object.fromEntries(names.map((name) => [name, form.elements[name].value]));
    const problem = filterProblem(values);
    if (problem) {
      markStale(section, problem);
      return;
    }
    const query = reportQuery(values);
    history.replaceState(null, "", `${location.pathname}${query ? "?" + query : ""}`);
    renderNav();
    document.body.dataset.ready = "false";
    const mine = ++latest;
    queue = queue.then(async () => {
      if (mine !== latest) return; // a newer change renders instead
      try {
        await rerender();
      } catch (error) {
        showError(`Could not update the numbers: ${error.message}`);
      } finally {
        if (mine === latest) document.body.dataset.ready = "true";
      }
    });
  });
}

function fillFilterForm(section, names = FILTERS) {
  const form = $("form[data-filters]", section);
  const values = filters(names);
  const note = $(".measure-note", form);
  note.hidden = true;
  // A page whose reports count estimates only offers no people's time: asked for it (a link from the
  // overview in FTE), it shows points, says so, and its address says points too.
  if (isTime(values.measure) && !form.hasAttribute("data-people-time")) {
    note.textContent = `This page counts estimates, so it shows points: people's time (${unitOf(values.measure)}) is on the Overview and Teams pages.`;
    note.hidden = false;
    values.measure = DEFAULTS.measure;
    const params = new URLSearchParams(location.search);
    params.delete("measure");
    history.replaceState(null, "", `${location.pathname}${params.size ? "?" + params : ""}`);
    renderNav();
  }
  for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
}

// Fetch a report with the page's filters; a filter the API refuses (422) or a bad range keeps the
// last good numbers, marked stale, and says why next to the inputs. Returns null when stale.
async function withFilters(section, load, names = FILTERS) {
  const values = filters(names);
  const problem = filterProblem(values);
  if (problem) {
    markStale(section, problem);
    return null;
  }
  try {
    const result = await load(values);
    good[section.id] = values;
    markStale(section, null);
    return result;
  } catch (error) {
    if (error.status === 422) {
      markStale(section, `These filters were refused: ${error.message}`);
      return null;
    }
    throw error;
  }
}

// -- tables that reflow to cards at narrow widths (each cell says which column it is) ------------

function labelCells(table) {
  const heads = $$("thead th", table).map((th) => th.textContent.trim());
  for (const row of $$("tbody tr", table)) {
    [...row.cells].forEach((cell, i) => { if (heads[i] && !cell.hasAttribute("colspan")) cell.dataset.label = heads[i]; });
  }
}

function emptyRow(table, text) {
  const columns = $$("thead th", table).length || 1;
  $("tbody", table).append(el("tr", { class: "empty" }, el("td", { colspan: String(columns), text })));
}

// -- Overview ------------------------------------------------------------------------------------

function renderChart(report) {
  const rows = [...report.values.map((v) => ({ label: v.name, share: v.share, target: v.target_share, cls: "bar", id: v.id })),
    { label: "Untagged", share: report.untagged.share, target: null, cls: "untagged", id: "untagged" }];
  const list = el("ul", { class: "hbar-list", "aria-label": "Share of all effort per value, with its target" });
  for (const row of rows) {
    const fill = el("span", { class: `hbar-fill ${row.cls}`, "data-value": row.id, "data-share": String(row.share) });
    fill.style.width = `${Math.max(0, Math.min(1, row.share)) * 100}%`; // CSSOM, allowed by the CSP
    const track = el("span", { class: "hbar-track", "aria-hidden": "true" }, fill);
    const hasTarget = row.target !== null && row.target !== undefined;
    if (hasTarget) {
      const marker = el("span", { class: "hbar-target", "data-target": String(row.target) });
      marker.style.left = `${Math.max(0, Math.min(1, row.target)) * 100}%`;
      track.append(marker);
    }
    const numbers = el("span", { class: "hbar-num" }, el("strong", { text: pct(row.share) }),
      hasTarget ? el("span", { class: "muted", text: ` target ${pct(row.target)}` }) : null);
    list.append(el("li", { class: "hbar", "data-row": row.id }, el("span", { class: "hbar-label", text: row.label }), track, numbers));
  }
  $("#chart").replaceChildren(list);
}

function driftCell(value) {
  const drift = value.target_share === null || value.target_share === undefined ? null : value.share - value.target_share;
  return el("td", { class: "num " + (drift === null ? "" : drift >= 0 ? "drift-pos" : "drift-neg"),
    text: drift === null ? "—" : `${drift >= 0 ? "+" : ""}${(drift * 100).toFixed(1)} pts` });
}

// A table cell's effort: a bare number in estimates (the column says effort), with its unit in
// people's time.
const effortText = (n, measure) => (isTime(measure) ? amount(n, measure) : fmt(n));

// A report's total as a headline; in people's time, over how many working days and people (never who).
function headline(report) {
  const total = amount(report.total.effort, report.measure);
  if (!isTime(report.measure)) return `${total} over ${plural(report.total.items, "item")}`;
  return `${total} over ${plural(report.working_days, "working day")} · ${plural(report.people, "person", "people")}` +
    ` · ${plural(report.total.items, "item")} worked on from ${report.from} to ${report.to}`;
}

// What a people's-time report does not show: in-progress items nobody held (a count: they carry no
// time), and a team too small to show, folded into the one above it (one, or a teams tree's list).
function timeNotes(report) {
  const notes = [report.folded].flat().filter(Boolean).map((f) => el("li", { class: "folded", "data-team": f.team, text: `${f.note}.` }));
  const nobody = report.unattributed?.items;
  if (nobody) notes.push(el("li", { class: "unattributed", text: `${plural(nobody, "item")} in progress with nobody assigned: not counted.` }));
  return notes;
}

function renderValuesTable(table, report, { items = false } = {}) {
  const body = $("tbody", table);
  const query = reportQuery();
  body.replaceChildren();
  for (const value of report.values) {
    const href = `/values/${encodeURIComponent(value.id)}${query ? "?" + query : ""}`;
    body.append(el("tr", { "data-value": value.id },
      el("th", { scope: "row" }, el("a", { href, "data-link": true, text: value.name })),
      el("td", { class: "num effort", text: effortText(value.effort, report.measure) }),
      el("td", { class: "num share", text: pct(value.share) }),
      el("td", { class: "num target", text: pct(value.target_share) }),
      driftCell(value),
      items ? el("td", { class: "num", text: fmt(value.items) }) : null));
  }
  body.append(el("tr", { "data-value": "untagged" },
    el("th", { scope: "row" }, el("a", { href: "/attention?kind=untagged", "data-link": true, text: "Untagged" })),
    el("td", { class: "num effort", text: effortText(report.untagged.effort, report.measure) }),
    el("td", { class: "num share", text: pct(report.untagged.share) }), el("td", { class: "num", text: "—" }), el("td", { class: "num", text: "—" }),
    items ? el("td", { class: "num", text: fmt(report.untagged.items) }) : null));
  labelCells(table);
}

// The overview's switch between points and people's time (FTE): a shortcut to its measure choice,
// pressed for the kind of measure chosen there.
function bindMeasureSwitch(section) {
  const select = $("form[data-filters] select[name=measure]", section);
  for (const button of $$("[data-switch]", section)) {
    const pressed = button.dataset.switch === "points" ? select.value === "points" : isTime(select.value);
    button.setAttribute("aria-pressed", String(pressed));
    button.onclick = () => {
      if (button.getAttribute("aria-pressed") === "true") return;
      select.value = button.dataset.switch;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    };
  }
}

async function renderOverview() {
  const section = $("#page-overview");
  fillFilterForm(section);
  bindFilterForm(section, renderOverview);
  bindMeasureSwitch(section);
  await loadPlan();
  $("#vision").textContent = plan.vision || "";
  const report = await withFilters(section, (values) => api(`/api/reports/effort-by-value?${reportQuery(values)}`));
  if (!report) return;
  renderChart(report);
  renderValuesTable($("#values"), report);
  $("#chart-title").textContent = isTime(report.measure) ? "People's time by value" : "Effort by value";
  $("#total").textContent = headline(report) +
    ` · orphaned ${amount(report.orphaned.effort, report.measure)} (${plural(report.orphaned.items, "item")}, counted in the rows above too)`;
  $("#time-notes").replaceChildren(...timeNotes(report));
  renderFreshnessLine(report);
  const parts = await Promise.allSettled([renderMeasures(), renderObstacles(), renderTrend()]);
  const failed = parts.filter((p) => p.status === "rejected").map((p) => p.reason.message);
  if (failed.length) showError(`Part of the overview could not be shown: ${failed.join("; ")}`);
}

function renderFreshnessLine(report) {
  const line = $("#freshness-line");
  const parts = Object.entries(report.freshness).map(([tracker, f]) => `${tracker} synced ${ago(f.last_sync)}`);
  line.replaceChildren(parts.length ? `${parts.join(" · ")} · ` : "No tracker configured · ",
    el("a", { href: "/health", "data-link": true, text: "health" }));
}

async function renderMeasures() {
  const list = $("#measures");
  const measures = (plan.measures || []).filter((m) => m.kind === "effort_share");
  if (!measures.length) {
    list.replaceChildren(el("li", { class: "muted", text: "The plan has no effort-share measures." }));
    return;
  }
  const done = await api(`/api/reports/effort-by-value?${reportQuery(filters(), { state: "done" })}`);
  const shares = Object.fromEntries(done.values.map((v) => [v.id, v.share]));
  list.replaceChildren(...measures.map((m) => {
    const actual = shares[m.value] ?? 0;
    const met = actual >= m.target;
    return el("li", { class: met ? "met" : "missed", "data-measure": m.id },
      el("span", { class: "sr-only", text: met ? "Met: " : "Not met: " }),
      `${m.name}: ${pct(actual)} of ${isTime(done.measure) ? "the time on done work" : "done effort"} goes to ${valueName(m.value)} (target ${pct(m.target)}) — ${met ? "met" : "not met"}`);
  }));
}

async function renderObstacles() {
  // Obstacles count estimates only: in people's time they are shown in points, and say so.
  const asked = filters();
  const measure = isTime(asked.measure) ? DEFAULTS.measure : asked.measure;
  const report = await api(`/api/reports/obstacles?${reportQuery({ ...asked, measure, state: "", from: "", to: "" })}`);
  const note = $("#obstacles-note");
  note.hidden = !isTime(asked.measure);
  note.textContent = `Shown in ${unitOf(report.measure)}: obstacles count estimates, not people's time.`;
  const list = $("#obstacles");
  list.replaceChildren();
  for (const o of report.obstacles) {
    const methods = o.methods.map(methodName).join(", ") || "no methods";
    const entry = el("li", { "data-obstacle": o.id }, el("strong", { text: o.name }),
      `: ${amount(o.blocked_effort, report.measure)} blocked in ${plural(o.blocked_items, "item")} of ${methods} (${amount(o.open_effort, report.measure)} open in all)`);
    if (o.items.length) {
      entry.append(el("ul", { class: "blocked-items" }, ...o.items.map((item) => el("li", {},
        itemRef(item.tracker, item.key), ` ${item.title} — ${item.status || "blocked"}, ${amount(item.effort, report.measure)} `,
        trackerLink(item.url, `open in ${trackerName(item.tracker)}`, { class: "ext" })))));
    }
    list.append(entry);
  }
  if (!report.obstacles.length) list.append(el("li", { class: "muted", text: "The plan names no obstacles." }));
}

const PALETTE = ["#2d6cdf", "#1e7b34", "#b3541e", "#7a3db8", "#a0266b", "#3d7f8c"];

function niceMax(max) {
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

async function renderTrend() {
  const trend = await api(`/api/reports/trend?${reportQuery({ ...filters(), state: "" })}`);
  const unit = unitOf(trend.measure);
  const what = isTime(trend.measure) ? "Time worked" : "Done effort";
  $("#trend-title").textContent = `${what} per week`;
  const series = [...plan.values.map((v, i) => ({ id: v.id, name: v.name, color: PALETTE[i % PALETTE.length] })),
    { id: "untagged", name: "Untagged", color: "#6b7480" }];
  const at = (week, id) => (id === "untagged" ? week.untagged : week.values[id] || 0);
  $("#trend thead").replaceChildren(el("tr", {}, el("th", { scope: "col", text: "Week" }),
    ...series.map((s) => el("th", { scope: "col", class: "num", text: `${s.name} (${unit})` }))));
  $("#trend tbody").replaceChildren(...trend.weeks.map((w) => el("tr", { "data-week": w.week },
    el("th", { scope: "row", text: `${w.week} (${w.start})` }), ...series.map((s) => el("td", { class: "num", text: fmt(at(w, s.id)) })))));
  const box = $("#trend-chart");
  const width = Math.max(300, Math.min(900, box.clientWidth || 720));
  const height = width < 500 ? 200 : 240;
  const left = 48, right = 10, top = 22, bottom = 26;
  const max = niceMax(Math.max(1, ...trend.weeks.flatMap((w) => series.map((s) => at(w, s.id)))));
  const n = trend.weeks.length;
  const x = (i) => left + (n > 1 ? (i * (width - left - right)) / (n - 1) : (width - left - right) / 2);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: String(width), height: String(height), role: "img",
    "aria-label": `${what} per value and week, in ${unit}; the weekly numbers are in the table below` });
  svg.append(svgEl("text", { x: "0", y: "12", class: "axis-unit" }, `${unit} per week`));
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.append(svgEl("line", { x1: String(left), x2: String(width - right), y1: String(y(v)), y2: String(y(v)), class: "grid" }));
    svg.append(svgEl("text", { x: String(left - 6), y: String(y(v) + 4), class: "axis-y" }, fmt(v)));
  }
  for (const s of series) {
    const line = svgEl("polyline", { points: trend.weeks.map((w, i) => `${x(i)},${y(at(w, s.id))}`).join(" "),
      fill: "none", stroke: s.color, "stroke-width": "2.5", "data-series": s.id });
    line.append(svgEl("title", {}, s.name));
    svg.append(line);
  }
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((width - left) / 64))));
  trend.weeks.forEach((w, i) => {
    if (i % every) return;
    svg.append(svgEl("text", { x: String(x(i)), y: String(height - 8), class: "axis-x" }, w.week.slice(5)));
  });
  const legend = el("ul", { class: "legend series" }, ...series.map((s) => {
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = s.color; // CSSOM, not an inline style attribute: the CSP allows it
    return el("li", {}, swatch, s.name);
  }));
  box.replaceChildren(svg, legend);
}

// -- Values --------------------------------------------------------------------------------------

const valuePaging = { cursor: null, shown: 0 };

async function renderValues(valueId) {
  const section = $("#page-values");
  fillFilterForm(section);
  bindFilterForm(section, () => renderValues(match(location.pathname)?.params[0]));
  await loadPlan();
  const detail = $("#value-detail");
  const list = $("#values-list");
  if (valueId && !plan.values.some((v) => v.id === valueId)) {
    $("#values-title").textContent = "No such value";
    detail.hidden = true;
    list.replaceChildren(el("p", { class: "error", text: `The plan has no value "${valueId}". ` }), el("a", { href: "/values", "data-link": true, text: "All values" }));
    return;
  }
  const report = await withFilters(section, (values) => api(`/api/reports/effort-by-value?${reportQuery(values)}`));
  if (!report) return;
  if (!valueId) {
    $("#values-title").textContent = "Values";
    document.title = "Values — v2mom-sync";
    detail.hidden = true;
    const table = el("table", { id: "values-table", class: "values cards" },
      el("caption", { class: "sr-only", text: "Every value: effort, share of all effort, target, drift and items" }),
      el("thead", {}, el("tr", {}, ...["Value", "Effort", "Share of total", "Target", "Drift", "Items"].map((h, i) =>
        el("th", { scope: "col", class: i ? "num" : null, text: h })))), el("tbody"));
    list.replaceChildren(el("p", { class: "total", text: `${amount(report.total.effort, report.measure)} over ${plural(report.total.items, "item")}. Open a value to see its methods and items.` }), table);
    renderValuesTable(table, report, { items: true });
    return;
  }
  const value = report.values.find((v) => v.id === valueId);
  $("#values-title").textContent = value.name;
  document.title = `${value.name} — Values — v2mom-sync`;
  list.replaceChildren();
  detail.hidden = false;
  const target = value.target_share === null || value.target_share === undefined ? "no target" : `target ${pct(value.target_share)}`;
  $("#value-summary").textContent = `${amount(value.effort, report.measure)} · ${pct(value.share)} of all effort · ${target} · ${plural(value.items, "item")}`;
  const methods = $("#value-methods tbody");
  methods.replaceChildren(...value.methods.map((m) => el("tr", { "data-method": m.id || "" },
    el("th", { scope: "row", text: m.id ? m.name : `${m.name} (tagged with the value directly)` }),
    el("td", { class: "num", text: fmt(m.effort) }),
    el("td", { class: "num share-value", text: pct(value.effort ? m.effort / value.effort : 0) }),
    el("td", { class: "num share-total", text: pct(report.total.effort ? m.effort / report.total.effort : 0) }),
    el("td", { class: "num", text: fmt(m.items) }))));
  if (!value.methods.length) emptyRow($("#value-methods"), "No effort through any method.");
  labelCells($("#value-methods"));
  $("#value-items tbody").replaceChildren();
  valuePaging.cursor = null;
  valuePaging.shown = 0;
  valuePaging.total = value.items;
  valuePaging.measure = report.measure;
  await moreValueItems(valueId);
}

async function moreValueItems(valueId) {
  const params = new URLSearchParams(reportQuery());
  params.set("limit", "50");
  if (valuePaging.cursor) params.set("cursor", valuePaging.cursor);
  const page = await api(`/api/reports/values/${encodeURIComponent(valueId)}/items?${params}`);
  const body = $("#value-items tbody");
  for (const item of page.items) {
    body.append(el("tr", { "data-item": `${item.tracker}:${item.key}` },
      el("td", {}, itemRef(item.tracker, item.key), " ", el("span", { text: item.title }), " ",
        trackerLink(item.url, `open in ${trackerName(item.tracker)}`, { class: "ext" })),
      el("td", { text: item.method ? methodName(item.method) + (item.methods > 1 ? ` and ${item.methods - 1} more` : "") : "the value itself" }),
      el("td", { class: "num", text: fmt(item.effort) })));
  }
  valuePaging.shown += page.items.length;
  valuePaging.cursor = page.next_cursor;
  if (!valuePaging.shown) emptyRow($("#value-items"), "No items count for this value with these filters.");
  labelCells($("#value-items"));
  $("#value-items-count").textContent = `Showing ${fmt(valuePaging.shown)} of ${plural(valuePaging.total, "item")}, biggest share of effort (${unitOf(valuePaging.measure)}) first.`;
  const more = $("#value-more");
  more.hidden = !page.next_cursor;
  more.onclick = async () => {
    more.disabled = true;
    try {
      await moreValueItems(valueId);
    } catch (error) {
      showError(`Could not load more items: ${error.message}`);
    } finally {
      more.disabled = false;
    }
  };
}

// -- Teams: the cascade's teams with their effort, and one team's own V2MOM and report -------------

// Every value and method of the cascade (the company's, then each team's) by id, for their names.
function cascadeNames() {
  const names = new Map();
  for (const x of [...(plan.values || []), ...(plan.methods || [])]) names.set(x.id, x.name);
  for (const team of plan.teams || []) {
    for (const x of [...(team.values || []), ...(team.methods || [])]) names.set(x.id, x.name);
  }
  return names;
}

function noTeams() {
  return el("div", { class: "explain", id: "no-teams" },
    el("p", {}, "This plan has no teams: add ", el("code", { text: "teams:" }), " to the plan, each with an ",
      el("code", { text: "id" }), ", a ", el("code", { text: "name" }), ", its ", el("code", { text: "parent" }),
      " (none for a team reporting to the company), the ", el("code", { text: "scope" }),
      " of tracker work that is its own (Jira projects or components, Linear teams, Asana projects) and the methods it runs, each saying which of the company's methods or values it ",
      el("code", { text: "serves" }), "."),
    el("p", {}, "Then this page shows each team's effort, how much of it reaches the company's values, and each team's own V2MOM."));
}

// The review periods a report may name: the plan's cycle's, then closed periods of earlier cycles.
async function fillPeriods(section) {
  const box = $("label[data-period]", section);
  const select = $("select[name=period]", section);
  const listing = await api("/api/reviews");
  const options = listing.periods.map((p) => [`${p.cycle}/${p.period}`, `${p.cycle}/${p.period}: ${p.start} to ${p.end}`]);
  for (const r of listing.reviews) {
    const reference = `${r.cycle}/${r.period}`;
    if (!options.some(([ref]) => ref === reference)) options.push([reference, `${reference}: ${r.start} to ${r.end} (closed)`]);
  }
  const asked = filters(PERIOD_FILTERS).period;
  if (asked && !options.some(([ref]) => ref === asked)) options.push([asked, asked]); // the API says why it is refused
  select.replaceChildren(el("option", { value: "", text: "any dates" }), ...options.map(([value, text]) => el("option", { value, text })));
  box.hidden = !options.length;
}

function teamShareBars(team) {
  const list = el("ul", { class: "team-values", "aria-label": `${team.name}: effort by value` });
  for (const v of team.values) {
    const share = team.effort ? v.effort / team.effort : 0;
    const fill = el("span", { class: "hbar-fill" });
    fill.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`; // CSSOM, allowed by the CSP
    list.append(el("li", { "data-value": v.id },
      el("span", { class: "tv-name", text: v.name }),
      el("span", { class: "tv-num" }, el("span", { class: "effort", text: fmt(v.effort) }), " · ", el("span", { class: "share", text: pct(share) })),
      el("span", { class: "hbar-track", "aria-hidden": "true" }, fill)));
  }
  if (!team.values.length) list.append(el("li", { class: "muted", text: "No effort reaches a value." }));
  return list;
}

async function renderTeams(teamId) {
  const section = $("#page-teams");
  const body = $("#teams-body");
  const form = $("form[data-filters]", section);
  await loadPlan(true);
  if (!(plan.teams || []).length) {
    $("#teams-title").textContent = "Teams";
    form.hidden = true;
    body.replaceChildren(noTeams());
    return;
  }
  form.hidden = false;
  await fillPeriods(section);
  fillFilterForm(section, PERIOD_FILTERS);
  bindFilterForm(section, () => renderTeams(match(location.pathname)?.params[0]), PERIOD_FILTERS);
  if (teamId !== undefined) {
    await renderTeam(section, teamId);
    return;
  }
  $("#teams-title").textContent = "Teams";
  const report = await withFilters(section, (values) => api(`/api/teams?${reportQuery(values)}`), PERIOD_FILTERS);
  if (!report) return;
  const query = reportQuery(filters(PERIOD_FILTERS));
  const names = new Map(plan.teams.map((t) => [t.id, t.name]));
  const time = isTime(report.measure); // each team also says how many people its figures cover
  const heads = ["Team", "Effort", "Share of the company", "Aligned", "Untagged", "Unaligned", "Items", ...(time ? ["People"] : []), "Effort by value"];
  const table = el("table", { id: "teams-table", class: "values cards teams" },
    el("caption", { text: "Teams, parents first: a team's numbers hold its sub-teams' work; shares of a team's own effort are aligned (reaching a company value), untagged and unaligned" }),
    el("thead", {}, el("tr", {}, ...heads.map((h, i) =>
      el("th", { scope: "col", class: i && i < heads.length - 1 ? "num" : null, text: h })))), el("tbody"));
  const rows = $("tbody", table);
  for (const team of report.teams) {
    const href = `/teams/${encodeURIComponent(team.id)}${query ? "?" + query : ""}`;
    const name = el("th", { scope: "row", class: "team-name" }, el("a", { href, "data-link": true, text: team.name }),
      team.parent ? el("span", { class: "under muted", text: ` under ${names.get(team.parent) || team.parent}` }) : null);
    const row = el("tr", { "data-team": team.id, "data-depth": String(team.depth) }, name,
      el("td", { class: "num effort", text: effortText(team.effort, report.measure) }),
      el("td", { class: "num share", text: pct(team.share) }),
      el("td", { class: "num aligned", text: pct(team.aligned_share) }),
      el("td", { class: "num untagged", text: pct(team.untagged_share) }),
      el("td", { class: "num unaligned", text: pct(team.unaligned_share) }),
      el("td", { class: "num items", text: fmt(team.items) }),
      time ? el("td", { class: "num people", text: fmt(team.people) }) : null,
      el("td", { class: "by-value" }, teamShareBars(team)));
    row.style.setProperty("--depth", String(team.depth - 1)); // CSSOM: the tree's indent
    rows.append(row);
  }
  const dash = () => el("td", { class: "num none", text: "—" });
  rows.append(el("tr", { "data-team": "company", class: "company-row" },
    el("th", { scope: "row", text: "The company's own work (in no team's scope)" }),
    el("td", { class: "num effort", text: effortText(report.company.effort, report.measure) }),
    el("td", { class: "num share", text: pct(report.company.share) }), dash(), dash(), dash(),
    el("td", { class: "num items", text: fmt(report.company.items) }),
    time ? el("td", { class: "num people none", text: "—" }) : null, el("td", { class: "none", text: "—" })));
  rows.append(el("tr", { "data-team": "total", class: "total-row" },
    el("th", { scope: "row", text: "All work" }),
    el("td", { class: "num effort", text: effortText(report.total.effort, report.measure) }),
    el("td", { class: "num share", text: pct(report.total.effort ? 1 : 0) }), dash(), dash(), dash(),
    el("td", { class: "num items", text: fmt(report.total.items) }), time ? el("td", { class: "num people", text: fmt(report.people) }) : null,
    el("td", { class: "none", text: "—" })));
  labelCells(table);
  body.replaceChildren(
    el("p", { class: "total", text: `${headline(report)}, in ${plural(report.teams.length, "team")} and the company's own work. Open a team for its own V2MOM and report.` }),
    el("ul", { class: "time-notes" }, ...timeNotes(report)), table);
}

// Why a team method's effort reaches no value: it serves nothing, or what it serves (down the
// chain) is a method that serves nothing, which is named.
function unalignedReason(id, names) {
  const methods = new Map((plan.teams || []).flatMap((t) => (t.methods || []).map((m) => [m.id, m])));
  const roots = (at, seen) => {
    const method = methods.get(at);
    if (!method || seen.has(at)) return [];
    seen.add(at);
    const served = Object.keys(method.serves || {});
    return served.length ? served.flatMap((next) => roots(next, seen)) : [at];
  };
  const found = roots(id, new Set());
  if (!found.length || found.includes(id)) return `method ${id} serves no parent method or value`;
  return `it serves ${found.map((r) => names.get(r) || r).join(", ")}, which serves no parent method or value`;
}

// A method's effort in a team's report: its share under each value, and what reaches no value.
function methodEffort(report, id) {
  let effort = 0;
  for (const v of report.values) for (const m of v.methods) if (m.id === id) effort += m.effort;
  for (const m of report.unaligned?.methods || []) if (m.id === id) effort += m.effort;
  return effort;
}

function periodNote(report) {
  const p = report.period;
  if (!p) return null;
  if (p.source === "snapshot") {
    return el("p", { class: "muted period-note" }, `These numbers are the review of ${p.id} (${p.start} to ${p.end}), closed `, timeEl(p.closed_at),
      ` under plan version ${p.plan_version}.`);
  }
  return el("p", { class: "muted period-note", text: `${p.id} (${p.start} to ${p.end}): ${p.note}.` });
}

async function renderTeam(section, teamId) {
  const body = $("#teams-body");
  const team = plan.teams.find((t) => t.id === teamId);
  const query = reportQuery(filters(PERIOD_FILTERS));
  const back = el("p", {}, el("a", { href: `/teams${query ? "?" + query : ""}`, "data-link": true, text: "← All teams" }));
  if (!team) {
    $("#teams-title").textContent = "No such team";
    document.title = "No such team — Teams — v2mom-sync";
    markStale(section, null);
    body.replaceChildren(el("p", { class: "error", id: "team-missing",
      text: `The plan has no team "${teamId}". Its teams are ${plan.teams.map((t) => t.name).join(", ")}.` }), back);
    return;
  }
  $("#teams-title").textContent = team.name;
  document.title = `${team.name} — Teams — v2mom-sync`;
  const load = (values) => Promise.all([
    api(`/api/reports/effort-by-value?${reportQuery(values, { team: team.id })}`),
    api(`/api/reports/effort-by-value?${reportQuery(values, { team: team.id, state: "done" })}`),
  ]);
  const loaded = await withFilters(section, load, PERIOD_FILTERS);
  if (!loaded) return;
  const [report, done] = loaded;
  const names = cascadeNames();
  const byId = new Map(plan.teams.map((t) => [t.id, t]));
  const chain = [];
  for (let up = byId.get(team.parent); up; up = byId.get(up.parent)) chain.unshift(up.name);
  const parts = [back,
    el("p", { class: "muted", text: `Part of: the company${chain.map((n) => ` › ${n}`).join("")} › ${team.name}` }),
    team.vision ? el("p", { class: "vision", text: team.vision }) : null];

  // Its own V2MOM, as the plan says it.
  parts.push(el("h2", { text: "Its V2MOM" }), el("h3", { text: "Values" }));
  const ownValues = team.values || [];
  parts.push(ownValues.length
    ? el("ul", { class: "team-own-values" }, ...ownValues.map((v) => el("li", { "data-value": v.id },
      el("strong", { text: v.name }), v.target_share !== undefined && v.target_share !== null ? ` (target ${pct(v.target_share)} of the team's effort)` : "")))
    : el("p", { class: "muted", text: "No values of its own." }));
  parts.push(el("p", { class: "muted", text: "The company's values always apply." }));

  const methods = el("table", { id: "team-methods", class: "values cards" },
    el("caption", { text: `${team.name}'s methods: what each serves, and its effort` }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Method" }), el("th", { scope: "col", text: "Serves" }),
      el("th", { scope: "col", class: "num", text: "Effort" }))), el("tbody"));
  for (const m of team.methods || []) {
    const serves = Object.entries(m.serves || {});
    const sum = serves.reduce((total, [, w]) => total + w, 0);
    const what = serves.length
      ? serves.map(([id, w]) => `${names.get(id) || id} (${pct(sum ? w / sum : 0)})`).join(", ")
      : "nothing: its effort reaches no company value (unaligned)";
    $("tbody", methods).append(el("tr", { "data-method": m.id }, el("th", { scope: "row", text: m.name }),
      el("td", { class: serves.length ? "serves" : "serves error", text: what }),
      el("td", { class: "num effort", text: effortText(methodEffort(report, m.id), report.measure) })));
  }
  if (!(team.methods || []).length) emptyRow(methods, "No methods of its own.");
  labelCells(methods);
  parts.push(el("h3", { text: "Methods" }), methods);

  const shares = Object.fromEntries(done.values.map((v) => [v.id, v.share]));
  const measures = (team.measures || []).filter((m) => m.kind === undefined || m.kind === "effort_share");
  parts.push(el("h3", { text: "Measures" }), measures.length
    ? el("ul", { class: "measures", id: "team-measures" }, ...measures.map((m) => {
      const actual = shares[m.value] ?? 0;
      const met = actual >= m.target;
      return el("li", { class: met ? "met" : "missed", "data-measure": m.id }, el("span", { class: "sr-only", text: met ? "Met: " : "Not met: " }),
        `${m.name}: ${pct(actual)} of the team's done effort goes to ${names.get(m.value) || m.value} (target ${pct(m.target)}) — ${met ? "met" : "not met"}`);
    }))
    : el("p", { class: "muted", text: "No measures of its own." }));
  const obstacles = team.obstacles || [];
  parts.push(el("h3", { text: "Obstacles" }), obstacles.length
    ? el("ul", { class: "obstacles" }, ...obstacles.map((o) => el("li", { "data-obstacle": o.id }, el("strong", { text: o.name }),
      o.methods?.length ? `: holds up ${o.methods.map((id) => names.get(id) || id).join(", ")}` : "")))
    : el("p", { class: "muted", text: "No obstacles named." }));

  // Its report: the team's work and its sub-teams', by value.
  const ownTargets = Object.fromEntries(ownValues.map((v) => [v.id, v.target_share]));
  const values = el("table", { id: "team-report", class: "values cards" },
    el("caption", { text: `Effort of ${team.name} and its sub-teams by value` }),
    el("thead", {}, el("tr", {}, ...["Value", "Effort", `Share of ${team.name}`, "Target"].map((h, i) =>
      el("th", { scope: "col", class: i ? "num" : null, text: h })))), el("tbody"));
  const row = (id, name, part, target) => el("tr", { "data-value": id }, el("th", { scope: "row", text: name }),
    el("td", { class: "num effort", text: effortText(part.effort, report.measure) }), el("td", { class: "num share", text: pct(part.share) }),
    el("td", { class: "num target", text: pct(target) }));
  for (const v of report.values) $("tbody", values).append(row(v.id, v.name, v, v.target_share ?? ownTargets[v.id] ?? null));
  $("tbody", values).append(row("untagged", "Untagged", report.untagged, null));
  if (report.unaligned) $("tbody", values).append(row("unaligned", "Unaligned", report.unaligned, null));
  labelCells(values);
  parts.push(el("h2", { text: "Effort by value" }), periodNote(report),
    el("p", { class: "total", text: headline(report) }), el("ul", { class: "time-notes" }, ...timeNotes(report)), values);

  const lost = report.unaligned?.methods || [];
  parts.push(el("h2", { text: "Unaligned work" }), lost.length
    ? el("ul", { class: "reasons unaligned-methods", id: "team-unaligned" }, ...lost.map((m) => el("li", { "data-method": m.id },
      el("strong", { text: m.name }), `: ${amount(m.effort, report.measure)} — ${unalignedReason(m.id, names)}, so this effort reaches none of the company's values.`)))
    : el("p", { class: "muted", text: "None: every method of this team serves a parent method or value." }));
  body.replaceChildren(...parts.filter(Boolean));
}

// -- Reviews: the closed periods side by side, and one period's review ----------------------------

const REVIEW_MEASURES = ["points", "hours", "count", "person_days", "fte"];
const isTimeMeasure = (measure) => measure === "person_days" || measure === "fte";
const reviewUnit = (measure) => ({ person_days: "person-days", fte: "FTE" })[measure] || measure;
// People's time reads as the report's command-line table prints it: "3.20 FTE", "12.5 person-days".
const reviewAmount = (n, measure) => (measure === "fte" ? `${(Number(n) || 0).toFixed(2)} FTE`
  : measure === "person_days" ? plural(n, "person-day") : amount(n, measure));
const reference = (r) => `${r.cycle}/${r.period}`;
const reviewPath = (cycle, period) => `/reviews/${encodeURIComponent(cycle)}/${encodeURIComponent(period)}`;

function reviewParams() {
  const params = new URLSearchParams(location.search);
  const measure = REVIEW_MEASURES.includes(params.get("measure")) ? params.get("measure") : "points";
  return { team: params.get("team") || "", measure };
}

function reviewQuery(values = reviewParams()) {
  const params = new URLSearchParams();
  if (values.team) params.set("team", values.team);
  if (values.measure !== "points") params.set("measure", values.measure);
  return params.toString();
}

// The team choice: the company, then every team the reviews shown hold (by id, named as they were).
function fillReviewTeams(docs, chosen) {
  const teams = new Map();
  for (const doc of docs) for (const [id, part] of Object.entries(doc.teams || {})) if (!teams.has(id)) teams.set(id, part.name);
  if (chosen && !teams.has(chosen)) teams.set(chosen, chosen);
  const select = $("#reviews-filters").elements.team;
  select.replaceChildren(el("option", { value: "", text: "the company" }), ...[...teams].map(([id, name]) => el("option", { value: id, text: name })));
  select.value = chosen;
  return teams;
}

function reviewPart(doc, team) {
  return team ? doc.teams?.[team] : doc.company;
}

// Why a review's part has no report in `measure` (null when it has one, or when the part is missing):
// a team too small to show in people's time (the note says whose figures hold its time), or a review
// closed before people's time was recorded.
function reviewGap(part, measure) {
  if (!part || part.reports[measure]) return null;
  return part.folded?.[measure]?.note || "This review was closed before people's time was recorded: it has no person-days or FTE.";
}

// A people's-time report's reach: "over 21 working days, 4 people counted".
const timeReach = (report) => `over ${plural(report.working_days, "working day")}, ${plural(report.people, "person", "people")} counted`;

function bindReviews() {
  const form = $("#reviews-filters");
  if (form.dataset.bound) return;
  form.dataset.bound = "true";
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", async () => {
    const query = reviewQuery({ team: form.elements.team.value, measure: form.elements.measure.value });
    history.replaceState(null, "", `${location.pathname}${query ? "?" + query : ""}`);
    document.body.dataset.ready = "false";
    try {
      await renderReviews(...(match(location.pathname)?.params || []));
    } catch (error) {
      showError(`Could not update the reviews: ${error.message}`);
    } finally {
      document.body.dataset.ready = "true";
    }
  });
  $("#reviews-close").addEventListener("click", closePeriods);
}

function reviewsExplanation(listing) {
  const how = "A period is closed after its last day: the scheduled reconcile closes it once every tracker has synced, " +
    "and v2mom review close (or an admin's \"Close ended periods\" on this page) closes every ended period at once. " +
    "A closed period's review never changes afterwards, whatever the plan says later.";
  if (!listing.cycle) {
    return el("div", { class: "explain", id: "no-reviews" },
      el("p", {}, "No period has been reviewed, and the plan has no cycle: add ", el("code", { text: "cycle:" }),
        " to the plan (its id, name, start and end, and periods: quarterly, monthly or a list) to review its effort period by period."),
      el("p", { text: how }));
  }
  return el("div", { class: "explain", id: "no-reviews" },
    el("p", { text: `No period of ${listing.cycle.name} (${listing.cycle.id}) has been closed yet.` }), el("p", { text: how }));
}

function showPending(listing) {
  const pending = listing.periods.filter((p) => p.ended && !p.closed).map(reference);
  $("#reviews-pending").textContent = !listing.cycle
    ? "The plan has no cycle, so it has no periods to close."
    : pending.length
      ? `Ended and not closed yet: ${pending.join(", ")}.`
      : `Every period of ${listing.cycle.name} that has ended is closed.`;
}

async function renderReviews(cycle, period) {
  bindReviews();
  await loadPlan();
  const form = $("#reviews-filters");
  const body = $("#reviews-body");
  const current = reviewParams();
  form.elements.measure.value = current.measure;
  $("#reviews-close-status").textContent = "";
  const listing = await api("/api/reviews");
  if (cycle !== undefined) {
    $("#reviews-admin").hidden = true;
    await renderReview(cycle, period, current);
    return;
  }
  $("#reviews-title").textContent = "Reviews";
  document.title = "Reviews — v2mom-sync";
  $("#reviews-admin").hidden = session.role !== "admin";
  showPending(listing);
  const docs = await Promise.all(listing.reviews.map((r) => api(`/api/${reviewPath(r.cycle, r.period).slice(1)}`)));
  if (!docs.length) {
    form.hidden = true;
    body.replaceChildren(reviewsExplanation(listing));
    return;
  }
  form.hidden = false;
  const teams = fillReviewTeams(docs, current.team);
  const who = current.team ? teams.get(current.team) : "the company";
  const query = reviewQuery(current);
  const reports = docs.map((doc) => reviewPart(doc, current.team)?.reports[current.measure] || null);
  const time = isTimeMeasure(current.measure);
  const gaps = docs.map((doc, i) => {
    const gap = reviewGap(reviewPart(doc, current.team), current.measure);
    return gap && el("li", { "data-period": reference(listing.reviews[i]) }, el("strong", { text: reference(listing.reviews[i]) }), `: ${gap}`);
  }).filter(Boolean);
  const heads = listing.reviews.map((r) => el("th", { scope: "col", class: "num", "data-period": reference(r) },
    el("a", { href: `${reviewPath(r.cycle, r.period)}${query ? "?" + query : ""}`, "data-link": true, text: reference(r),
      "aria-label": `Review of ${reference(r)}` }),
    el("span", { class: "dates muted" }, " ", el("span", { class: "date", text: r.start }), " to ", el("span", { class: "date", text: r.end }))));

  // Values as rows, periods as columns: each value's share of the period's done effort.
  const rows = new Map();
  reports.forEach((report) => { for (const v of report?.values || []) if (!rows.has(v.id)) rows.set(v.id, v.name); });
  const latest = (id) => {
    for (const report of [...reports].reverse()) {
      const found = report?.values.find((v) => v.id === id);
      if (found) return found.target_share;
    }
    return null;
  };
  const cell = (text, ref) => el("td", { class: "num", "data-period": ref, text });
  const shareRow = (id, name, pick, target) => el("tr", { "data-value": id }, el("th", { scope: "row", text: name }),
    el("td", { class: "num target", text: pct(target) }),
    ...reports.map((report, i) => cell(report && pick(report) ? pct(pick(report).share) : "—", reference(listing.reviews[i]))));
  const shares = el("table", { id: "review-shares", class: "values matrix" },
    el("caption", { text: `Share of each period's ${time ? "time worked" : "done effort"} (${reviewUnit(current.measure)}) per value, for ${who}` }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Value" }), el("th", { scope: "col", class: "num", text: "Target" }), ...heads)),
    el("tbody", {}, ...[...rows].map(([id, name]) => shareRow(id, name, (r) => r.values.find((v) => v.id === id), latest(id))),
      shareRow("untagged", "Untagged", (r) => r.untagged, null),
      reports.some((r) => r?.unaligned) ? shareRow("unaligned", "Unaligned", (r) => r.unaligned, null) : null,
      el("tr", { "data-value": "total" }, el("th", { scope: "row", text: time ? "Time worked" : "Done effort" }), el("td", { class: "num", text: "—" }),
        ...reports.map((report, i) => cell(report ? reviewAmount(report.total.effort, report.measure) + (time ? ` ${timeReach(report)}` : "") : "—",
          reference(listing.reviews[i]))))));

  // Each measure met or not, per period.
  const measures = new Map();
  docs.forEach((doc) => { for (const m of reviewPart(doc, current.team)?.measures[current.measure] || []) measures.set(m.id, m); });
  const met = el("table", { id: "review-measures", class: "values matrix" },
    el("caption", { text: `Measures met per period, for ${who}` }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Measure" }), el("th", { scope: "col", class: "num", text: "Target" }), ...heads.map((h) => h.cloneNode(true)))),
    el("tbody", {}, ...[...measures.values()].map((m) => el("tr", { "data-measure": m.id }, el("th", { scope: "row", text: m.name }),
      el("td", { class: "num target", text: pct(m.target) }),
      ...docs.map((doc, i) => {
        const found = (reviewPart(doc, current.team)?.measures[current.measure] || []).find((x) => x.id === m.id);
        if (!found) return cell("—", reference(listing.reviews[i]));
        return el("td", { class: `num ${found.met ? "met" : "missed"}`, "data-period": reference(listing.reviews[i]) },
          `${found.met ? "✔ met" : "✘ not met"} (${pct(found.actual)})`);
      })))));
  if (!measures.size) emptyRow(met, "No effort-share measures.");
  const region = (table, label) => el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": label }, table);
  const what = time ? "the time people worked in the period, on work in every state, every tracker" : "done work in the period, every tracker";
  body.replaceChildren(...[
    el("p", { class: "total", text: `${plural(docs.length, "closed period")}, side by side. Each is the review stored when it was closed: ${what}. Open a period for its whole review.` }),
    gaps.length ? el("ul", { class: "reasons", id: "review-gaps" }, ...gaps) : null,
    el("h2", { text: "Effort by value" }), region(shares, `Share of ${time ? "time worked" : "done effort"} per value and period`),
    el("h2", { text: "Measures" }), region(met, "Measures met per period")].filter(Boolean));
}

async function closePeriods() {
  const button = $("#reviews-close");
  const status = $("#reviews-close-status");
  button.disabled = true;
  status.classList.remove("error");
  status.textContent = "Closing the ended periods…";
  document.body.dataset.ready = "false";
  try {
    const answer = await api("/api/reviews/close", { method: "POST" });
    const refs = (list) => list.map(reference).join(", ");
    let text;
    if (answer.closed.length) {
      text = `Closed ${refs(answer.closed)}: ${answer.closed.length === 1 ? "its review is" : "their reviews are"} stored.` +
        (answer.already_closed.length ? ` Already closed before: ${refs(answer.already_closed)}.` : "");
    } else if (answer.already_closed.length) {
      text = `Nothing to close: every ended period is already closed (${refs(answer.already_closed)}).`;
    } else {
      text = "Nothing to close: no period of the cycle has ended yet.";
    }
    await renderReviews();
    status.textContent = text;
  } catch (error) {
    status.textContent = `Could not close the ended periods: ${error.message}`;
    status.classList.add("error");
  } finally {
    button.disabled = false;
    document.body.dataset.ready = "true";
  }
}

// One part's stored report in `measure` and its measures met: done effort, or in people's time the
// time worked in the period ("0.48 FTE over 21 working days, 4 people counted").
function reviewReport(part, measure, who, ref) {
  const report = part.reports[measure];
  const time = isTimeMeasure(measure);
  const table = el("table", { id: "review-report", class: "values cards" },
    el("caption", { text: `${time ? "Time worked by" : "Done effort of"} ${who} in ${ref} by value` }),
    el("thead", {}, el("tr", {}, ...["Value", time ? reviewUnit(measure) : "Effort", "Share", "Target"].map((h, i) => el("th", { scope: "col", class: i ? "num" : null, text: h })))),
    el("tbody"));
  const row = (id, name, p, target) => el("tr", { "data-value": id }, el("th", { scope: "row", text: name }),
    el("td", { class: "num effort", text: fmt(p.effort) }), el("td", { class: "num share", text: pct(p.share) }), el("td", { class: "num target", text: pct(target) }));
  for (const v of report.values) $("tbody", table).append(row(v.id, v.name, v, v.target_share));
  $("tbody", table).append(row("untagged", "Untagged", report.untagged, null));
  if (report.unaligned) $("tbody", table).append(row("unaligned", "Unaligned", report.unaligned, null));
  labelCells(table);
  const total = time
    ? `${reviewAmount(report.total.effort, measure)} ${timeReach(report)}: the time worked from ${report.from} to ${report.to}, on work in every state, over ${plural(report.total.items, "item")}`
    : `${amount(report.total.effort, measure)} done over ${plural(report.total.items, "item")}`;
  const out = [el("h2", { text: "Effort by value" }), el("p", { class: "total", id: "review-total", text: total }), table];
  const lost = report.unaligned?.methods || [];
  if (lost.length) {
    out.push(el("h3", { text: "Unaligned work" }), el("ul", { class: "reasons" }, ...lost.map((m) => el("li", { "data-method": m.id },
      el("strong", { text: m.name }), `: ${reviewAmount(m.effort, measure)} reached no company value (the method, or what it serves, serves nothing)`))));
  }
  const names = Object.fromEntries(report.values.map((v) => [v.id, v.name]));
  const measures = part.measures[measure] || [];
  out.push(el("h2", { text: "Measures" }), measures.length
    ? el("ul", { class: "measures", id: "review-measure-list" }, ...measures.map((m) => el("li", { class: m.met ? "met" : "missed", "data-measure": m.id },
      el("span", { class: "sr-only", text: m.met ? "Met: " : "Not met: " }),
      `${m.name}: ${pct(m.actual)} of ${time ? "the time worked" : "done effort"} went to ${names[m.value] || m.value} (target ${pct(m.target)}) — ${m.met ? "met" : "not met"}`)))
    : el("p", { class: "muted", text: "No effort-share measures." }));
  return out;
}

async function renderReview(cycle, period, current) {
  const body = $("#reviews-body");
  const form = $("#reviews-filters");
  const ref = `${cycle}/${period}`;
  const back = el("p", {}, el("a", { href: `/reviews${reviewQuery(current) ? "?" + reviewQuery(current) : ""}`, "data-link": true, text: "← All reviews" }));
  let doc;
  try {
    doc = await api(`/api/${reviewPath(cycle, period).slice(1)}`);
  } catch (error) {
    if (error.status !== 404) throw error;
    $("#reviews-title").textContent = `No review of ${ref}`;
    document.title = `No review of ${ref} — v2mom-sync`;
    form.hidden = true;
    body.replaceChildren(el("p", { class: "error", id: "review-missing", text: `There is no review of ${ref}: that period has not been closed.` }), back);
    return;
  }
  form.hidden = false;
  const teams = fillReviewTeams([doc], current.team);
  $("#reviews-title").textContent = `Review of ${doc.cycle.name} · ${doc.period.id}`;
  document.title = `Review of ${ref} — v2mom-sync`;
  const parts = [back, el("p", { class: "review-meta" },
    `${doc.cycle.name} (${doc.cycle.id}), period ${doc.period.id}: ${doc.period.start} to ${doc.period.end}`,
    doc.period.cut ? ", cut short when the plan moved to a new cycle" : "", ". Closed ", timeEl(doc.closed_at),
    `, computed under plan version ${doc.plan_version}.`)];
  const part = reviewPart(doc, current.team);
  if (!part) {
    parts.push(el("p", { class: "error", text: `This review has no team "${current.team}": it was not a team of the plan then.` }));
    body.replaceChildren(...parts);
    return;
  }
  const who = current.team ? teams.get(current.team) : "the company";
  const time = isTimeMeasure(current.measure);
  const gap = reviewGap(part, current.measure);
  if (gap) parts.push(el("h2", { text: "Effort by value" }), el("p", { class: "muted", id: "review-gap", text: gap }));
  else parts.push(...reviewReport(part, current.measure, who, ref));
  if (time) {
    parts.push(el("h2", { text: "Obstacles and flagged work at closing" }), el("p", { class: "muted", id: "review-estimates-only",
      text: "Obstacles and flagged work are counted in points, hours or count: pick one of those measures to see them." }));
    body.replaceChildren(...parts);
    return;
  }
  const obstacles = doc.obstacles[current.measure] || [];
  parts.push(el("h2", { text: "Obstacles at closing" }), obstacles.length
    ? el("ul", { class: "obstacles" }, ...obstacles.map((o) => el("li", { "data-obstacle": o.id }, el("strong", { text: o.name }),
      `: ${amount(o.blocked_effort, current.measure)} blocked in ${plural(o.blocked_items, "item")} of ${o.methods.map(methodName).join(", ") || "no methods"} (${amount(o.open_effort, current.measure)} open in all)`)))
    : el("p", { class: "muted", text: "The plan named no obstacles." }));
  const flags = el("table", { id: "review-flags", class: "values cards" },
    el("caption", { text: "Flagged work at closing, all work" }),
    el("thead", {}, el("tr", {}, ...["Flag", "Items", "Effort"].map((h, i) => el("th", { scope: "col", class: i ? "num" : null, text: h })))),
    el("tbody", {}, ...Object.entries(doc.flags[current.measure] || {}).map(([kind, count]) => el("tr", { "data-flag": kind },
      el("th", { scope: "row", text: kind }), el("td", { class: "num items", text: fmt(count.items) }), el("td", { class: "num effort", text: fmt(count.effort) })))));
  labelCells(flags);
  parts.push(el("h2", { text: "Flagged work at closing" }), flags);
  body.replaceChildren(...parts);
}

// -- Attention: untagged, orphaned and conflicting work, all of it reachable ----------------------

// Unaligned work exists only under a plan with teams: its tab shows when the counts carry it.
const KINDS = [["untagged", "Untagged"], ["orphaned", "Orphaned"], ["conflict", "Conflict"], ["unaligned", "Unaligned"]];
const TAGGABLE = new Set(["untagged", "orphaned"]);
const flagPaging = { cursor: null, shown: 0, total: 0 };

function attentionParams() {
  const params = new URLSearchParams(location.search);
  const kind = KINDS.some(([k]) => k === params.get("kind")) ? params.get("kind") : "untagged";
  const measure = params.get("measure") || "points";
  // Flags count estimates only: an address in people's time shows points (the select says so).
  return { kind, q: params.get("q") || "", tracker: params.get("tracker") || "", measure: isTime(measure) ? "points" : measure };
}

function attentionUrl(values) {
  const params = new URLSearchParams();
  if (values.kind !== "untagged") params.set("kind", values.kind);
  if (values.q) params.set("q", values.q);
  if (values.tracker) params.set("tracker", values.tracker);
  if (values.measure !== "points") params.set("measure", values.measure);
  return `/attention${params.toString() ? "?" + params : ""}`;
}

function bindAttention() {
  const form = $("#attention-filters");
  if (form.dataset.bound) return;
  form.dataset.bound = "true";
  const submit = () => {
    const current = attentionParams();
    navigate(attentionUrl({ ...current, q: form.elements.q.value.trim(), tracker: form.elements.tracker.value, measure: form.elements.measure.value }));
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  form.elements.tracker.addEventListener("change", submit);
  form.elements.measure.addEventListener("change", submit);
  $("#flags-more").addEventListener("click", async () => {
    const more = $("#flags-more");
    more.disabled = true;
    try {
      await moreFlags();
    } catch (error) {
      showError(`Could not load more items: ${error.message}`);
    } finally {
      more.disabled = false;
    }
  });
}

async function renderAttention() {
  bindAttention();
  await loadPlan();
  const current = attentionParams();
  const form = $("#attention-filters");
  form.elements.q.value = current.q;
  form.elements.tracker.value = current.tracker;
  form.elements.measure.value = current.measure;
  const params = new URLSearchParams({ measure: current.measure });
  if (current.tracker) params.set("tracker", current.tracker);
  if (current.q) params.set("q", current.q);
  const counts = await api(`/api/reports/flags/counts?${params}`);
  $("#kinds").replaceChildren(...KINDS.filter(([kind]) => counts[kind]).map(([kind, label]) => el("li", {},
    el("a", { href: attentionUrl({ ...current, kind }), "data-link": true, "data-kind": kind, "aria-current": kind === current.kind ? "page" : null },
      `${label} `, el("span", { class: "count", text: fmt(counts[kind].items) })))));
  flagPaging.cursor = null;
  flagPaging.shown = 0;
  flagPaging.total = counts[current.kind]?.items ?? 0;
  flagPaging.effort = counts[current.kind]?.effort ?? 0;
  $("#flags tbody").replaceChildren();
  const quality = $("#suggest-quality");
  quality.hidden = current.kind !== "untagged";
  $("#bulk").hidden = current.kind !== "untagged" || session.role !== "admin";
  if (session.role === "admin") {
    bindBulk();
    fillBulkChoices();
  }
  await Promise.all([moreFlags(), current.kind === "untagged" ? showModelQuality() : null]);
}

async function moreFlags() {
  const current = attentionParams();
  const params = new URLSearchParams({ kind: current.kind, limit: "50", measure: current.measure });
  if (current.tracker) params.set("tracker", current.tracker);
  if (current.q) params.set("q", current.q);
  if (flagPaging.cursor) params.set("cursor", flagPaging.cursor);
  const page = await api(`/api/reports/flags?${params}`);
  const body = $("#flags tbody");
  const taggable = session.role === "admin" && TAGGABLE.has(current.kind);
  body.querySelector("tr.empty")?.remove();
  const suggesting = [];
  for (const item of page.items) {
    const name = `${item.tracker}:${item.key}`;
    const actions = el("td", { class: "actions" },
      el("a", { href: itemPath(item.tracker, item.key), "data-link": true, class: "button-link", "aria-label": `Explain ${name}`, text: "Explain" }));
    if (taggable) actions.append(tagControl(item, { onTagged: afterListTag }));
    const suggested = el("p", { class: "suggested", hidden: true });
    const row = el("tr", { "data-item": name },
      el("td", { class: "item" }, itemRef(item.tracker, item.key), " ", el("span", { text: item.title }), " ",
        trackerLink(item.url, `open in ${trackerName(item.tracker)}`, { class: "ext item-link" }), suggested),
      el("td", { class: "num", text: fmt(item.effort) }),
      el("td", {}, el("ul", { class: "reasons" }, ...item.reasons.map((r) => el("li", { text: r })))),
      actions);
    body.append(row);
    if (current.kind === "untagged") suggesting.push(showSuggestions(row, item));
  }
  await Promise.all(suggesting);
  flagPaging.shown += page.items.length;
  flagPaging.cursor = page.next_cursor;
  if (!flagPaging.shown) emptyRow($("#flags"), current.q || current.tracker ? "Nothing flagged matches these filters." : "Nothing flagged.");
  labelCells($("#flags"));
  const label = KINDS.find(([k]) => k === current.kind)[1].toLowerCase();
  $("#attention-count").textContent = `Showing ${fmt(flagPaging.shown)} of ${plural(flagPaging.total, `${label} item`)} ` +
    `(${amount(flagPaging.effort, current.measure)} in all), biggest effort first.`;
  $("#flags-more").hidden = !page.next_cursor;
}

// -- suggestions for untagged work: learned from what people tagged; accepting one is tagging it ---

async function showModelQuality() {
  const box = $("#suggest-quality");
  const { model } = await api("/api/suggestions/model");
  if (!model) {
    box.textContent = "No suggestions yet: a model is trained from the items people tagged after the next sync.";
    return;
  }
  const level = model.levels.find((l) => l.confidence === model.floor) || model.levels[0];
  box.textContent = `Suggestions at ${pct(model.floor)} confidence or more were right ${pct(level.precision)} of the time ` +
    `and offered for ${pct(level.coverage)} of items, measured on ${plural(model.held_out, "people-tagged item")} held out ` +
    `(learned from ${plural(model.examples, "item")} people tagged, ${model.trained_at.slice(0, 10)}).`;
  const table = el("table", { id: "suggest-levels", class: "values" },
    el("caption", { text: "Held-out precision and coverage at each confidence level" }),
    el("thead", {}, el("tr", {}, ...["Confidence", "Coverage", "Precision (first suggestion)"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...model.levels.map((l) => el("tr", {},
      el("th", { scope: "row", text: `${pct(l.confidence)} or more` }), el("td", { class: "num", text: pct(l.coverage) }),
      el("td", { class: "num", text: pct(l.precision) })))));
  box.append(" ", el("details", {}, el("summary", { text: "At each confidence level" }), table));
}

const suggestedName = (s) => (s.method ? methodName(s.method) : valueName(s.value));

async function showSuggestions(row, item) {
  const holder = row.querySelector(".suggested");
  const name = `${item.tracker}:${item.key}`;
  const path = `/api/items/${encodeURIComponent(item.tracker)}/${encodeURIComponent(item.key)}/suggestions`;
  const { suggestions } = await api(path);
  holder.hidden = !suggestions.length;
  const form = row.querySelector("form.tag-form");
  holder.replaceChildren(el("span", { class: "muted", text: "Suggested: " }), ...suggestions.map((s) => {
    const kind = s.method ? "method" : "value";
    const label = `${suggestedName(s)} (${pct(s.confidence)})`;
    const why = s.because.join("; ");
    if (!form) return el("span", { class: "suggestion", title: why, text: `${label} ` });
    const accept = el("button", { type: "button", class: "suggestion", title: why,
      "aria-label": `Tag ${name} with suggested ${kind} ${suggestedName(s)}, ${pct(s.confidence)} sure: ${why}`, text: label });
    accept.addEventListener("click", () => {
      const option = [...form.elements.tag.options].find((o) => o.value === (s.method || s.value) && o.dataset.kind === kind);
      if (!option) return;
      option.selected = true;
      form.elements.tag.dispatchEvent(new Event("change"));
      form.requestSubmit();  // the tag control asks to confirm what it will write, as when picked by hand
    });
    const reject = el("button", { type: "button", class: "secondary reject", "aria-label": `Not ${suggestedName(s)} for ${name}: never suggest it again`, text: "✕" });
    reject.addEventListener("click", async () => {
      await api(`${path}/reject`, { method: "POST", body: { [kind]: s.method || s.value } });
      await showSuggestions(row, item);
      row.querySelector(".suggested button")?.focus();
    });
    return el("span", { class: "suggestion-group" }, accept, reject);
  }));
}

// An admin accepts one suggestion for every untagged item whose best suggestion it is: previewed
// ("write Reliability to these 42 items"), then each item tagged by the tagging write itself.
function bindBulk() {
  const form = $("#bulk-form");
  if (form.dataset.bound) return;
  form.dataset.bound = "true";
  let chosen = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const option = form.elements.tag.selectedOptions[0];
    if (!option?.value) return;
    chosen = { [option.dataset.kind]: option.value, min_confidence: Number(form.elements.min_confidence.value) };
    const params = new URLSearchParams({ [option.dataset.kind]: option.value, min_confidence: String(chosen.min_confidence) });
    const preview = await api(`/api/admin/suggestions/bulk?${params}`);
    chosen.items = preview.items.map((item) => `${item.tracker}:${item.key}`);
    $("#bulk-question").textContent = preview.count
      ? `Write ${preview.name} to these ${plural(preview.count, "item")}? Each becomes the item's own tag in its tracker and here.`
      : `No untagged item has ${preview.name} as its best suggestion at ${pct(chosen.min_confidence)} or more.`;
    $("#bulk-items").replaceChildren(...preview.items.map((item) => el("li", {},
      itemRef(item.tracker, item.key), ` ${item.title} (${pct(item.confidence)})`)));
    const write = $("#bulk-write");
    write.textContent = `Write ${preview.name} to ${plural(preview.count, "item")}`;
    write.hidden = !preview.count;
    $("#bulk-preview").hidden = false;
    $("#bulk-status").textContent = "";
  });
  $("#bulk-write").addEventListener("click", async () => {
    if (!chosen?.items?.length) return;
    const write = $("#bulk-write");
    write.disabled = true;
    $("#bulk-status").textContent = `Tagging ${plural(chosen.items.length, "item")}…`;
    try {
      const done = await api("/api/admin/suggestions/bulk", { method: "POST", body: chosen });
      const parts = [`Tagged ${plural(done.tagged.length, "item")}; the report is updated.`];
      if (done.skipped.length) parts.push(`${plural(done.skipped.length, "item")} no longer qualified.`);
      if (done.failed.length) parts.push(`Refused: ${done.failed.map((f) => `${f.item} (${f.reason})`).join("; ")}.`);
      $("#bulk-preview").hidden = true;
      await renderAttention();
      $("#bulk-status").textContent = parts.join(" ");
    } catch (error) {
      $("#bulk-status").textContent = `Could not tag: ${error.message}`;
    } finally {
      write.disabled = false;
    }
  });
}

function fillBulkChoices() {
  const select = $("#bulk-form").elements.tag;
  if (select.options.length > 1) return;
  const option = (kind, x) => el("option", { value: x.id, "data-kind": kind, text: x.name });
  select.append(el("optgroup", { label: "Values" }, ...(plan.values || []).map((v) => option("value", v))),
    el("optgroup", { label: "Methods" }, ...(plan.methods || []).map((m) => option("method", m))));
}

async function afterListTag(form) {
  const rows = [...$("#flags tbody").rows];
  const index = rows.indexOf(form.closest("tr"));
  await renderAttention();
  // The tagged row has left the list: keep the keyboard where it was, on the next row's choice.
  const next = $("#flags tbody").rows[Math.max(0, index)]?.querySelector("select") || $("#kinds a[aria-current]");
  next?.focus();
}

// -- tagging (admin): a value or method written to the item's tracker, confirmed first ------------

const WHERE = {
  jira: (kind, name) => `its Jira field "V2MOM ${kind === "value" ? "Value" : "Method"}" = "${name}"`,
  asana: (kind, name) => `its Asana field "V2MOM ${kind === "value" ? "Value" : "Method"}" = "${name}"`,
  linear: (kind, name) => `the Linear label "${kind === "value" ? "Value" : "Method"}/${name}"`,
};

function tagControl(item, { onTagged, status = "#tag-status" }) {
  const name = `${item.tracker}:${item.key}`;
  const option = (kind, x) => el("option", { value: x.id, "data-kind": kind, text: x.name });
  const select = el("select", { name: "tag", "aria-label": `Value or method to tag ${name} with` },
    el("option", { value: "", text: "Choose…" }),
    el("optgroup", { label: "Values" }, ...(plan.values || []).map((v) => option("value", v))),
    el("optgroup", { label: "Methods" }, ...(plan.methods || []).map((m) => option("method", m))));
  const button = el("button", { type: "submit", disabled: true, "aria-label": `Tag ${name}`, text: "Tag" });
  const question = el("p", { class: "confirm-text" });
  const yes = el("button", { type: "button", class: "confirm-yes" });
  const no = el("button", { type: "button", class: "secondary", text: "Cancel" });
  const confirmBox = el("div", { class: "tag-confirm", role: "group", "aria-label": `Confirm the tag of ${name}`, hidden: true }, question, yes, " ", no);
  const form = el("form", { class: "tag-form", "data-item": name }, select, button, confirmBox);
  const say = (text, failed = false) => {
    const box = $(status);
    box.textContent = text;
    box.classList.toggle("error", failed);
  };
  const chosen = () => (select.value ? select.selectedOptions[0] : null);
  select.addEventListener("change", () => {
    button.disabled = !chosen();
    confirmBox.hidden = true;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const choice = chosen();
    if (!choice) return;
    const kind = choice.dataset.kind;
    question.textContent = `Write ${kind} "${choice.textContent}" to ${name} in ${trackerName(item.tracker)}, as ${WHERE[item.tracker]?.(kind, choice.textContent) || "its tag"}? ` +
      "It becomes the item's own tag there and here.";
    yes.textContent = `Write to ${trackerName(item.tracker)}`;
    yes.setAttribute("aria-label", `Write ${kind} ${choice.textContent} to ${name} in ${trackerName(item.tracker)}`);
    confirmBox.hidden = false;
    yes.focus();
  });
  no.addEventListener("click", () => { confirmBox.hidden = true; select.focus(); });
  yes.addEventListener("click", async () => {
    const choice = chosen();
    if (!choice) return;
    const kind = choice.dataset.kind;
    const label = `${kind} "${choice.textContent}"`;
    yes.disabled = true;
    button.disabled = true;
    say(`Tagging ${name} with ${label}…`);
    try {
      const doc = await api(`/api/items/${encodeURIComponent(item.tracker)}/${encodeURIComponent(item.key)}/tags`,
        { method: "POST", body: { [kind]: choice.value } });
      const later = doc.read_back === "pending"
        ? ` ${trackerName(item.tracker)} took it, but reading it back failed; its webhook or the next sync will bring its copy.`
        : "";
      say(`Tagged ${item.tracker}:${doc.key} with ${label} in ${trackerName(item.tracker)}; the report is updated.${later}`);
      confirmBox.hidden = true;
      await onTagged(form, doc);
    } catch (error) {
      say(`Could not tag ${name}: ${error.message}`, true);
      confirmBox.hidden = true;
      button.disabled = false;
      select.focus();
    } finally {
      yes.disabled = false;
    }
  });
  if (!(plan.values || []).length && !(plan.methods || []).length) select.disabled = true; // nothing to choose
  return form;
}

// -- the item page: what a tracker's link opens ---------------------------------------------------

// A rule as the resolver writes it ("rule r3 (tracker=jira, epic=ONB-1) → method slo-program"), in words.
function ruleInWords(line) {
  const found = /^rule (\S+) \((.*)\) → (method|value) (.+)$/.exec(line);
  if (!found) return line;
  const [, id, conditions, kind, target] = found;
  const when = conditions.split(", ").map((c) => c.replace("=", " is ")).join(" and ");
  return `Rule ${id}: when ${when}, then ${kind} "${kind === "method" ? methodName(target) : valueName(target)}"`;
}

function chainStep(title, ...body) {
  return el("li", {}, el("strong", { text: title }), " ", ...body);
}

async function renderItem(tracker, key) {
  const body = $("#item-body");
  const title = $("#item-title");
  const name = `${tracker}:${key}`;
  document.title = `${name} — v2mom-sync`;
  title.textContent = name;
  body.replaceChildren(el("p", { class: "muted", text: `Loading ${name}…` }));
  $("#item-tag-status").textContent = "";
  await loadPlan();
  let doc;
  try {
    doc = await api(`/api/items/${encodeURIComponent(tracker)}/${encodeURIComponent(key)}`);
  } catch (error) {
    title.textContent = `No explanation for ${name}`;
    const why = error.status === 404
      ? `v2mom-sync knows no item ${name}. It may have been deleted or moved out of scope, or not be synced yet.`
      : `Cannot show ${name}: ${error.message}`;
    body.replaceChildren(el("p", { class: "error", id: "explain-missing", text: why }),
      el("p", {}, el("a", { href: "/attention", "data-link": true, text: "See the work that needs attention" })));
    return;
  }
  await showItem(doc);
}

// An item's people's time as one line: how many person-days over how many days worked, never by whom.
function peopleTimeLine(time) {
  const worked = time.days_worked
    ? `${amount(time.person_days, "person_days")} over ${plural(time.days_worked, "working day")}`
    : "no person-days (nobody had it in progress)";
  return el("p", { id: "item-people-time", class: "muted", text: `People's time: ${worked}, ${time.from} to ${time.to}.` });
}

async function showItem(doc) {
  const tracker = doc.tracker;
  const name = `${tracker}:${doc.key}`;
  const r = doc.resolution || { flags: [], values: {}, methods: [], reasons: [], explanation: [] };
  const measureNow = filters().measure;
  document.title = `${name} ${doc.item.title} — v2mom-sync`;
  $("#item-title").textContent = `${name} — ${doc.item.title}`;
  const parts = [];
  const openLink = trackerLink(doc.item.url, `Open ${doc.key} in ${trackerName(tracker)}`, { class: "ext" });
  const values = Object.entries(r.values || {});
  const verdict = r.flags?.includes("untagged") || !values.length
    ? el("p", { class: "verdict untagged", text: "Its effort counts as untagged: no value resolved." })
    : el("p", { class: "verdict" }, "Its effort counts for ",
      ...values.flatMap(([v, w], i) => [i ? ", " : "", el("a", { href: `/values/${encodeURIComponent(v)}`, "data-link": true, text: valueName(v) }), ` (${pct(w)})`]), ".");
  parts.push(el("p", { class: "item-meta" }, openLink, ` · ${doc.item.status_name || doc.item.state} · `,
    r.effort ? `counts ${amount(r.effort[measureNow] ?? r.effort.points, measureNow)} in the report` : ""));
  if (doc.deleted) parts.push(el("p", { class: "error", text: "This item was deleted in its tracker: it counts nothing." }));
  parts.push(verdict);

  // The resolution as a chain: the item's own tags, else the ancestor it inherits from, else a rule on
  // its container; then its methods and the values they serve.
  const chain = el("ol", { class: "chain", "aria-label": `How ${name} resolved` });
  const own = r.own_tags || { because: [], unknown: [] };
  if (r.source === "own") {
    chain.append(chainStep(`${name} is tagged itself:`, (own.because || []).map(ruleInWords).join("; ") || "its own tags"));
  } else {
    chain.append(chainStep(`${name}`, "has no tag of its own."));
  }
  if (r.source === "inherited" && r.inherited_from) {
    const [fromTracker, ...rest] = r.inherited_from.split(":");
    const fromKey = rest.join(":");
    const through = [];
    for (const a of doc.ancestors || []) {
      if (!a.found || a.key === fromKey) break;
      through.push(a);
    }
    const step = chainStep("It inherits from", itemRef(fromTracker, fromKey),
      through.length ? el("span", {}, ", through ", ...through.flatMap((a, i) => [i ? ", " : "", itemRef(a.tracker, a.key)])) : "", ".");
    chain.append(step);
    try {
      const source = await api(`/api/items/${encodeURIComponent(fromTracker)}/${encodeURIComponent(fromKey)}`);
      const because = source.resolution?.source === "own" ? source.resolution.own_tags?.because : source.resolution?.explanation;
      if (because?.length) chain.append(chainStep(`${fromTracker}:${source.key} is tagged by`, because.map(ruleInWords).join("; ") + "."));
    } catch (error) {
      chain.append(chainStep(`${r.inherited_from}:`, `(could not be read: ${error.message})`));
    }
  } else if (r.source === "container") {
    chain.append(chainStep("A rule on its container applies:", (r.explanation || []).map(ruleInWords).join("; ") + "."));
  } else if (r.source === "none" || !r.source) {
    chain.append(chainStep("Nothing places it:", "no tag, no tag on a parent, no rule on its project or team."));
  }
  for (const v of r.explicit_values || []) chain.append(chainStep("Value named directly:", `"${valueName(v)}".`));
  for (const m of r.methods || []) {
    const method = plan.methods?.find((x) => x.id === m);
    const weights = method ? (method.weights && Object.keys(method.weights).length ? Object.entries(method.weights)
      : (method.values || []).map((v, _, all) => [v, 1 / all.length])) : [];
    chain.append(chainStep(`Method "${methodName(m)}"`, weights.length
      ? `serves ${weights.map(([v, w]) => `"${valueName(v)}" (${pct(w)})`).join(", ")}.` : "serves no value in the plan."));
  }
  parts.push(el("h2", { text: "How it resolved" }), chain);

  if ((r.flags || []).length) {
    parts.push(el("h2", { text: "Flags" }), el("p", { class: "flag-list" }, ...r.flags.map((f) => el("span", { class: `badge ${f}`, text: f }))),
      el("ul", { class: "reasons" }, ...(r.reasons || []).map((line) => el("li", { text: line }))));
  }
  const ancestors = doc.ancestors || [];
  if (ancestors.length) {
    parts.push(el("h2", { text: `Its parents in ${trackerName(tracker)}` }), el("ol", { class: "parents" }, ...ancestors.map((a) => el("li", {},
      a.found ? itemRef(a.tracker, a.key) : el("span", { text: `${trackerName(a.tracker)} item ${a.key || "id " + a.id}` }), " ",
      a.found ? `${a.title}${a.deleted ? " (deleted)" : ""}` : "(not in v2mom-sync: deleted, out of scope, unsynced or no access)"))));
  }
  if (r.effort) {
    parts.push(el("p", { class: "muted", text: `Counted effort: ${amount(r.effort.points, "points")}, ${amount(r.effort.hours, "hours")}, ${amount(r.effort.count, "count")}.` }));
  }
  if (doc.people_time) parts.push(peopleTimeLine(doc.people_time));
  if (session.role === "admin" && !doc.deleted) {
    const box = el("section", { class: "tag-box", "aria-labelledby": "tag-box-title" }, el("h2", { id: "tag-box-title", text: "Tag this item" }),
      el("p", { class: "muted", text: `Sets the item's own value or method, in ${trackerName(tracker)} and here.` }),
      tagControl({ tracker, key: doc.key, url: doc.item.url }, { status: "#item-tag-status", onTagged: async (_form, tagged) => {
        await showItem(tagged);
        $("#item-title").focus();
      } }));
    parts.push(box);
  }
  $("#item-body").replaceChildren(...parts);
  $("#page-item").dataset.item = name;
}

// -- Plan & rules (admin): every change previewed; a big move asks for its phrase -------------------

// A write that moves much of the effort answers 409 with {confirm: phrase, moved_share}, and a preview
// carries the same keys: the admin types the phrase, and the write is sent again with it.
function confirmFrom(answer) {
  const source = answer?.confirm ? answer : answer?.preview?.confirm ? answer.preview : null;
  return source ? { phrase: source.confirm, share: source.moved_share } : null;
}

function askPhrase(form, needed, onChange) {
  const box = $(".confirm-move", form);
  const input = box.querySelector("input");
  form.dataset.phrase = needed ? needed.phrase : "";
  box.hidden = !needed;
  input.value = "";
  if (!needed) return;
  $(".phrase", box).textContent = needed.phrase;
  input.oninput = onChange;
}

function phraseOk(form) {
  const needed = form.dataset.phrase;
  return !needed || $(".confirm-move input", form).value.trim() === needed;
}

function moveText(needed) {
  return needed ? ` It moves ${pct(needed.share)} of all effort: type "${needed.phrase}" below to apply it.` : "";
}

// Sent in the preview's measure: the share a change moves, and so its phrase, is measured in it.
async function confirmedWrite(form, path, options) {
  const phrase = form.dataset.phrase;
  const headers = phrase ? { "X-Confirm-Move": phrase } : {};
  const measured = `${path}${path.includes("?") ? "&" : "?"}measure=${encodeURIComponent(filters().measure)}`;
  return api(measured, { ...options, headers });
}

function describeRule(rule) {
  const when = Object.entries(rule.when).map(([k, v]) => `${k} is ${v}`).join(" and ");
  return [when, rule.method ? `method "${methodName(rule.method)}"` : `value "${valueName(rule.value)}"`];
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
  const [key, value] = Object.entries(when)[0] || ["label", ""];
  form.elements.key.value = key;
  form.elements.match.value = value;
  form.elements.equals.value = equals;
  form.elements.target.value = rule.method ? "method" : "value";
  fillTargets();
  form.elements.target_id.value = rule.method || rule.value;
  form.elements.position.value = String(rule.position);
  form.querySelector("legend").textContent = `Edit rule ${rule.position}`;
  resetRuleForm(false);
  form.elements.match.focus();
}

function resetRuleForm(clearPosition = true) {
  const form = $("#rule-form");
  if (clearPosition) {
    form.elements.position.value = "";
    form.querySelector("legend").textContent = "Add a rule";
  }
  $("#apply").disabled = true;
  askPhrase(form, null);
}

function ruleTarget() {
  const position = $("#rule-form").elements.position.value;
  return position === "" ? { path: "/api/admin/rules", method: "POST" } : { path: `/api/admin/rules/${position}`, method: "PUT" };
}

function fillTargets() {
  const form = $("#rule-form");
  const items = form.elements.target.value === "method" ? plan.methods : plan.values;
  form.elements.target_id.replaceChildren(...items.map((x) => el("option", { value: x.id, text: x.name })));
}

// Once the plan has a cycle every change says why: the reason above the rules goes with each applied
// change (a top-level "reason" key of the body, or ?reason= when deleting a rule); without one the
// API answers 422, shown where that change shows its errors. Previews need none.
const changeReason = () => $("#change-reason").value.trim();
const withReason = (body) => (changeReason() ? { ...body, reason: changeReason() } : body);
const reasonQuery = () => (changeReason() ? `?reason=${encodeURIComponent(changeReason())}` : "");

function showReasonBox() {
  const box = $("#change-reason-box");
  const input = $("#change-reason");
  box.hidden = !plan.cycle;
  input.required = Boolean(plan.cycle);
  $("#change-reason-hint").textContent = plan.cycle
    ? `The plan is in cycle ${plan.cycle.id} (${plan.cycle.name}): every change to its rules or to the plan says why, and the history keeps it.`
    : "";
}

// What a version changed, in words: its change lines, renamed values and methods, the effort moved.
function historyChanges(changes) {
  if (!changes) return "not recorded (applied before changes were kept)";
  const parts = [...changes.lines];
  for (const section of ["values", "methods"]) {
    for (const r of changes[section].renamed) parts.push(`${section.slice(0, -1)} ${r.id} renamed from "${r.from}" to "${r.to}"`);
  }
  const moved = changes.effort_moved;
  if (moved && moved.moved) parts.push(`moved ${amount(moved.moved, moved.measure)} (${pct(moved.share)} of the effort)`);
  return parts.join("; ");
}

async function renderHistory() {
  const { versions } = await api("/api/plan/history?limit=50");
  const list = $("#plan-history");
  list.replaceChildren(...versions.map((v) => el("li", { "data-version": String(v.version) },
    el("span", { class: "actor", text: `Version ${v.version}` }), " ", timeEl(v.created_at), ` by ${v.created_by}`,
    el("p", { class: v.reason ? "why" : "why muted", text: v.reason ? `Why: ${v.reason}` : "No reason given." }),
    el("p", { class: "what", text: `What changed: ${historyChanges(v.changes)}` }))));
  if (!versions.length) list.append(el("li", { class: "muted", text: "No plan applied yet." }));
}

async function renderPlan() {
  bindPlanPage();
  await loadPlan(true);
  showReasonBox();
  if (!$("#rule-form").elements.target_id.options.length) fillTargets();
  await renderRules();
  if (!$("#plan-json").dataset.dirty) $("#plan-json").value = JSON.stringify(plan, null, 2);
  await renderHistory();
}

// After a change is applied its reason is spent: the next change says its own.
function reasonSpent() {
  $("#change-reason").value = "";
}

async function renderRules() {
  const { rules } = await api("/api/admin/rules");
  const body = $("#rules tbody");
  body.replaceChildren();
  for (const rule of rules) {
    const [when, then] = describeRule(rule);
    const remove = el("button", { type: "button", class: "secondary", text: "Delete", "aria-label": `Delete rule ${rule.position}` });
    remove.addEventListener("click", () => askDelete(rule));
    const edit = el("button", { type: "button", class: "secondary", text: "Edit", "aria-label": `Edit rule ${rule.position}` });
    edit.addEventListener("click", () => loadRule(rule));
    const move = (delta, label) => {
      const button = el("button", { type: "button", class: "secondary", text: label, "aria-label": `Move rule ${rule.position} ${delta < 0 ? "up" : "down"}` });
      const target = rule.position + delta;
      if (target < 0 || target >= rules.length) button.disabled = true;
      button.addEventListener("click", async () => {
        const order = rules.map((r) => r.position);
        [order[rule.position], order[target]] = [order[target], order[rule.position]];
        try {
          await api("/api/admin/rules/reorder", { method: "POST", body: withReason({ order }) });
          reasonSpent();
          await renderPlan();
          $(`#rules tr[data-position='${target}'] button[aria-label='Move rule ${target} ${delta < 0 ? "up" : "down"}']`)?.focus();
        } catch (error) {
          $("#rules-status").textContent = `Could not move rule ${rule.position}: ${error.message}`;
        }
      });
      return button;
    };
    body.append(el("tr", { "data-position": String(rule.position) }, el("td", { text: String(rule.position) }), el("td", { class: "when", text: when }),
      el("td", { text: then }), el("td", { class: "actions" }, edit, move(-1, "↑"), move(1, "↓"), remove)));
  }
  if (!rules.length) emptyRow($("#rules"), "No rules: items are placed by their own tags and their parents' only.");
  labelCells($("#rules"));
}

// Deleting a rule: its preview first, inline (with the phrase when it moves much), then the delete.
async function askDelete(rule) {
  const status = $("#rules-status");
  status.replaceChildren(`Previewing the delete of rule ${rule.position}…`);
  try {
    const preview = await api(`/api/admin/rules/${rule.position}?dry_run=true&measure=${filters().measure}`, { method: "DELETE" });
    const needed = confirmFrom(preview);
    const form = el("form", { class: "inline-confirm", "aria-label": `Confirm the delete of rule ${rule.position}` });
    const yes = el("button", { type: "submit", text: `Delete rule ${rule.position}` });
    const no = el("button", { type: "button", class: "secondary", text: "Cancel" });
    const phrase = el("div", { class: "confirm-move", hidden: true },
      el("label", {}, "Type ", el("strong", { class: "phrase" }), " to confirm ", el("input", { name: "confirm", autocomplete: "off" })));
    form.append(el("span", { text: `Delete rule ${rule.position}? It ${preview.preview.summary}.${moveText(needed)} ` }), phrase, yes, " ", no);
    status.replaceChildren(form);
    askPhrase(form, needed, () => { yes.disabled = !phraseOk(form); });
    yes.disabled = !phraseOk(form);
    no.addEventListener("click", () => status.replaceChildren());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await confirmedWrite(form, `/api/admin/rules/${rule.position}${reasonQuery()}`, { method: "DELETE" });
        reasonSpent();
        status.replaceChildren(`Deleted rule ${rule.position}.`);
        await renderPlan();
      } catch (error) {
        const again = confirmFrom(error.body);
        if (error.status === 409 && again) {
          askPhrase(form, again, () => { yes.disabled = !phraseOk(form); });
          yes.disabled = true;
          form.firstChild.textContent = `${error.message}.${moveText(again)} `;
          return;
        }
        status.replaceChildren(`Could not delete rule ${rule.position}: ${error.message}`);
      }
    });
    (needed ? $("input", phrase) : yes).focus();
  } catch (error) {
    status.replaceChildren(`Could not preview the delete: ${error.message}`);
  }
}

function bindPlanPage() {
  const form = $("#rule-form");
  if (form.dataset.bound) return;
  form.dataset.bound = "true";
  form.elements.target.addEventListener("change", fillTargets);
  form.addEventListener("input", (event) => {
    if (event.target.name === "confirm") return;
    resetRuleForm(false);
    $("#preview-text").textContent = "";
  });
  $("#preview").addEventListener("click", async () => {
    $("#rule-error").textContent = "";
    try {
      const target = ruleTarget();
      const answer = await api(`${target.path}?dry_run=true&measure=${filters().measure}`, { method: target.method, body: { rule: ruleFromForm() } });
      const needed = confirmFrom(answer);
      $("#preview-text").textContent = `This rule ${answer.preview.summary}.${moveText(needed)}`;
      askPhrase(form, needed, () => { $("#apply").disabled = !phraseOk(form); });
      $("#apply").disabled = !phraseOk(form);
    } catch (error) {
      $("#rule-error").textContent = error.message;
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!phraseOk(form)) return;
    try {
      const target = ruleTarget();
      const answer = await confirmedWrite(form, target.path, { method: target.method, body: withReason({ rule: ruleFromForm() }) });
      reasonSpent();
      resetRuleForm();
      await renderPlan();  // the page shows the new plan before it says so
      $("#preview-text").textContent = `Applied: plan version ${answer.version}; ${answer.preview.summary}.`;
    } catch (error) {
      const needed = confirmFrom(error.body);
      if (error.status === 409 && needed) {
        $("#preview-text").textContent = `${error.message}.${moveText(needed)}`;
        askPhrase(form, needed, () => { $("#apply").disabled = !phraseOk(form); });
        $("#apply").disabled = true;
        $(".confirm-move input", form).focus();
        return;
      }
      $("#rule-error").textContent = error.message;
    }
  });

  const planForm = $("#plan-form");
  const text = $("#plan-json");
  const parse = () => {
    try {
      return JSON.parse(text.value);
    } catch (error) {
      throw new Error(`the plan is not valid JSON: ${error.message}`);
    }
  };
  text.addEventListener("input", () => {
    text.dataset.dirty = "1";
    $("#plan-apply").disabled = true;
    askPhrase(planForm, null);
    $("#plan-preview-text").textContent = "";
  });
  $("#plan-preview").addEventListener("click", async () => {
    $("#plan-error").textContent = "";
    try {
      const answer = await api(`/api/admin/plan?dry_run=true&measure=${filters().measure}`, { method: "PUT", body: parse() });
      const needed = confirmFrom(answer);
      $("#plan-preview-text").textContent = `${answer.changes.join("; ") || "no changes"} — this plan ${answer.preview.summary}.${moveText(needed)}`;
      askPhrase(planForm, needed, () => { $("#plan-apply").disabled = !phraseOk(planForm); });
      $("#plan-apply").disabled = !phraseOk(planForm);
    } catch (error) {
      $("#plan-error").textContent = error.message;
    }
  });
  planForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!phraseOk(planForm)) return;
    try {
      const answer = await confirmedWrite(planForm, "/api/admin/plan", { method: "PUT", body: withReason(parse()) });
      reasonSpent();
      $("#plan-preview-text").textContent = `Applied: plan version ${answer.version}.`;
      $("#plan-apply").disabled = true;
      askPhrase(planForm, null);
      delete text.dataset.dirty;
      await renderPlan();
    } catch (error) {
      const needed = confirmFrom(error.body);
      if (error.status === 409 && needed) {
        $("#plan-preview-text").textContent = `${error.message}.${moveText(needed)}`;
        askPhrase(planForm, needed, () => { $("#plan-apply").disabled = !phraseOk(planForm); });
        $("#plan-apply").disabled = true;
        $(".confirm-move input", planForm).focus();
        return;
      }
      $("#plan-error").textContent = error.message;
    }
  });
}

// -- Audit (admin): every kind of change, newest first ---------------------------------------------

const auditPaging = { cursor: null };

// An entry of either shape: {id, at, actor, kind, summary, details} or the older plan-version one
// {version, at, actor, changes, before, after}.
function auditEntry(e) {
  const kind = e.kind || "plan";
  const changes = e.details?.changes || e.changes || [];
  const summary = e.summary || (changes.length ? changes.join("; ") : "no change");
  const version = e.details?.version ?? e.version;
  const item = el("li", { "data-kind": kind },
    timeEl(e.at), " ", el("span", { class: `badge kind-${kind}`, text: kind }), " ",
    el("span", { class: "actor", text: e.actor }), `: ${summary}`,
    !e.summary && version !== undefined && version !== null ? el("span", { class: "muted", text: ` (plan v${version})` }) : null);
  if (changes.length > 1 && e.summary) {
    item.append(el("details", {}, el("summary", { text: "What changed" }), el("ul", {}, ...changes.map((c) => el("li", { text: c })))));
  }
  return item;
}

async function renderAudit() {
  const form = $("#audit-filters");
  const kind = new URLSearchParams(location.search).get("kind") || "";
  form.elements.kind.value = kind;
  if (!form.dataset.bound) {
    form.dataset.bound = "true";
    form.addEventListener("submit", (event) => event.preventDefault());
    form.elements.kind.addEventListener("change", () => navigate(`/audit${form.elements.kind.value ? "?kind=" + form.elements.kind.value : ""}`));
    $("#audit-more").addEventListener("click", async () => {
      try {
        await moreAudit();
      } catch (error) {
        showError(`Could not load more of the audit log: ${error.message}`);
      }
    });
  }
  $("#audit").replaceChildren();
  auditPaging.cursor = null;
  await moreAudit();
}

async function moreAudit() {
  const kind = new URLSearchParams(location.search).get("kind") || "";
  const params = new URLSearchParams({ limit: "50" });
  if (kind) params.set("kind", kind);
  if (auditPaging.cursor) params.set("cursor", auditPaging.cursor);
  const answer = await api(`/api/admin/audit?${params}`);
  const entries = answer.entries.filter((e) => !kind || (e.kind || "plan") === kind);
  $("#audit").append(...entries.map(auditEntry));
  auditPaging.cursor = answer.next_cursor || null;
  $("#audit-more").hidden = !auditPaging.cursor;
  if (!$("#audit").children.length) $("#audit").append(el("li", { class: "muted", text: "Nothing recorded yet." }));
}

// -- Access (admin): API tokens, the secret shown once; accounts seen, counted --------------------

async function renderAccess() {
  bindTokens();
  await Promise.all([renderTokens(), renderPeople()]);
}

// How the settings' people: covers the accounts seen, per tracker: counts only, never an account.
async function renderPeople() {
  const { trackers, people } = await api("/api/admin/people");
  const table = $("#people-accounts");
  $("tbody", table).replaceChildren(...Object.entries(trackers).map(([tracker, c]) => el("tr", { "data-tracker": tracker },
    el("th", { scope: "row", text: trackerName(tracker) }),
    el("td", { class: "num", text: fmt(c.accounts) }),
    el("td", { class: "num", text: fmt(c.mapped) }),
    el("td", { class: "num", text: fmt(c.unmapped) }))));
  if (!Object.keys(trackers).length) emptyRow(table, "No account seen yet: nothing has been assigned, or nothing synced.");
  labelCells(table);
  $("#people-count").textContent = `The settings list ${plural(people, "person", "people")}.`;
}

async function renderTokens() {
  const { tokens } = await api("/api/admin/tokens");
  const body = $("#tokens tbody");
  body.replaceChildren();
  for (const token of tokens) {
    const status = token.revoked_at ? `revoked ${when(token.revoked_at)}` : token.current ? "live (this session)" : "live";
    const cell = el("td", { class: "actions" });
    if (!token.revoked_at) {
      const revoke = el("button", { type: "button", class: "revoke secondary", text: "Revoke", "aria-label": `Revoke ${token.name}` });
      revoke.addEventListener("click", () => {
        if (token.current && revoke.dataset.armed !== "true") {
          revoke.dataset.armed = "true";
          revoke.textContent = "Revoke and sign out";
          $("#token-error").textContent = "This is the token of your own session: revoking it signs you out. Press again to revoke.";
          return;
        }
        revokeToken(token);
      });
      cell.append(revoke);
    }
    body.append(el("tr", { "data-token": String(token.id) }, el("td", { text: token.name }), el("td", { text: token.role }),
      el("td", { text: when(token.created_at) }), el("td", { text: when(token.last_used_at) }), el("td", { class: "status", text: status }), cell));
  }
  labelCells($("#tokens"));
}

async function revokeToken(token) {
  try {
    await api(`/api/admin/tokens/${token.id}`, { method: "DELETE" });
    $("#token-error").textContent = "";
    if (token.current) signedOut();
    else await renderTokens();
  } catch (error) {
    $("#token-error").textContent = error.message;
  }
}

function bindTokens() {
  const form = $("#token-form");
  if (form.dataset.bound) return;
  form.dataset.bound = "true";
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

// -- Health: freshness, backlog, parked and ignored events ------------------------------------------

async function renderHealth() {
  const report = await api("/api/reports/effort-by-value");
  const body = $("#freshness tbody");
  body.replaceChildren(...Object.entries(report.freshness).map(([tracker, f]) => el("tr", { "data-tracker": tracker },
    el("th", { scope: "row", text: trackerName(tracker) }),
    el("td", {}, timeEl(f.last_sync), f.last_sync ? ` (${ago(f.last_sync)})` : "",
      f.interrupted_at ? el("span", { class: "error", text: ` · a sync started ${when(f.interrupted_at)} was interrupted` }) : null),
    el("td", {}, timeEl(f.last_event), f.last_event ? ` (${ago(f.last_event)})` : ""),
    el("td", { class: "num", text: fmt(f.backlog) }),
    el("td", { class: "num", text: fmt(f.parked) }))));
  if (!body.rows.length) emptyRow($("#freshness"), "No tracker is configured.");
  labelCells($("#freshness"));
  const admin = $("#health-admin");
  admin.hidden = session.role !== "admin";
  if (session.role !== "admin") return;
  const [parked, ignored] = await Promise.all([api("/api/admin/webhooks/parked?limit=50"), api("/api/admin/webhooks/ignored?limit=50")]);
  $("#parked tbody").replaceChildren(...parked.items.map((e) => el("tr", {}, el("td", {}, timeEl(e.received_at)), el("td", { text: e.tracker }),
    el("td", { text: e.kind }), el("td", { text: e.item_ref || "—" }), el("td", { class: "num", text: fmt(e.attempts) }), el("td", { text: e.last_error || "—" }))));
  if (!parked.items.length) emptyRow($("#parked"), "No parked events.");
  labelCells($("#parked"));
  const counts = Object.entries(ignored.counts).map(([t, n]) => `${trackerName(t)} ${fmt(n)}`);
  $("#ignored-counts").textContent = counts.length ? `Ignored so far: ${counts.join(", ")}.` : "No ignored events.";
  $("#ignored tbody").replaceChildren(...ignored.items.map((e) => el("tr", {}, el("td", {}, timeEl(e.received_at)), el("td", { text: e.tracker }),
    el("td", { text: e.event_type }), el("td", { text: e.reason }))));
  if (!ignored.items.length) emptyRow($("#ignored"), "None recently.");
  labelCells($("#ignored"));
}

const RENDER = {
  overview: renderOverview,
  values: renderValues,
  teams: renderTeams,
  attention: renderAttention,
  reviews: renderReviews,
  item: renderItem,
  plan: renderPlan,
  audit: renderAudit,
  access: renderAccess,
  health: renderHealth,
};

// -- sign in and out -------------------------------------------------------------------------------

function signedOut() {
  session = null;
  plan = null;
  document.body.dataset.signedIn = "false";
  $("#who").hidden = true;
  $("#nav").hidden = true;
  $("#nav-toggle").hidden = true;
  for (const section of $$(".page")) section.hidden = true;
  showError("");
  const target = match(location.pathname);
  const note = $("#login-target");
  if (target?.page.id === "item") {
    const [tracker, key] = target.params;
    note.textContent = `Sign in to see why ${tracker}:${key} counts where it does: its explanation opens right after.`;
    note.hidden = false;
    document.title = `Sign in to open ${tracker}:${key} — v2mom-sync`;
  } else {
    note.hidden = true;
    document.title = "Sign in — v2mom-sync";
  }
  $("#login").hidden = false;
  document.body.dataset.page = "login";
  document.body.dataset.ready = "true";
  $("#token").focus();
}

async function signedIn(who) {
  session = who;
  document.body.dataset.signedIn = "true";
  document.body.dataset.role = who.role;
  $("#login").hidden = true;
  $("#who").hidden = false;
  $("#who-name").textContent = `${who.name} (${who.role})`;
  $("#nav").hidden = false;
  $("#nav-toggle").hidden = false;
  renderNav();
  await route();
}

// Every report page's filter form is one template's copy (index.html's #report-filters); people's
// time (the template's [data-time] parts) stays only in the forms marked data-people-time.
function fillFilterForms() {
  const fields = $("#report-filters").content;
  for (const form of $$("form[data-filters]")) {
    if (form.elements.length) continue;
    form.append(fields.cloneNode(true));
    if (!form.hasAttribute("data-people-time")) for (const part of $$("[data-time]", form)) part.remove();
  }
}

async function start() {
  fillFilterForms();
  let who;
  try {
    who = await api("/api/session");
  } catch (error) {
    if (error.status === 401) {
      signedOut();
      return;
    }
    throw error;
  }
  await signedIn(who);
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#login-error").textContent = "";
    try {
      const who = await api("/api/session", { method: "POST", body: { token: $("#token").value } });
      $("#token").value = "";
      firstRoute = true;
      await signedIn(who);
    } catch (error) {
      $("#login-error").textContent = error.message;
    }
  });
  $("#logout").addEventListener("click", async () => {
    try {
      await api("/api/session", { method: "DELETE" });
    } catch (error) {
      showError(`Could not sign out: ${error.message}`);
      return;
    }
    signedOut();
  });
  $("#nav-toggle").addEventListener("click", () => {
    const open = !$("#nav").classList.contains("open");
    $("#nav").classList.toggle("open", open);
    $("#nav-toggle").setAttribute("aria-expanded", String(open));
  });
  start().catch((error) => {
    showError(`The dashboard could not start: ${error.message}`);
    document.body.dataset.ready = "true";
  });
});
// Whatever slips through is shown on the page, never left as a blank screen.
window.addEventListener("unhandledrejection", (event) => {
  showError(`Something failed: ${event.reason?.message || event.reason}`);
  document.body.dataset.ready = "true";
});
