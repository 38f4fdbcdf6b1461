// The inbox list: rendered from case rows (the API's case representation), kept current by
// live events, sorted and filtered like the server does, navigable from the keyboard.
import { connect } from "./live.js";
import { api, el, followers, localTime, slaText, toast } from "./util.js";

const root = document.querySelector(".inbox");
const body = document.getElementById("case-rows");
const count = document.getElementById("case-count");
const me = Number(document.body.dataset.user);
const view = root.dataset.view;
const sort = root.dataset.sort;
const params = new URLSearchParams(location.search);
const rows = new Map();
const viewers = new Map();
let selected = null;

const OPEN = new Set(["new", "open", "pending"]);

function belongs(row) {
  if (view === "mine" && (row.assignee !== me || !OPEN.has(row.status))) return false;
  if (view === "unassigned" && (row.assignee !== null || !OPEN.has(row.status))) return false;
  if (view === "teams" && !OPEN.has(row.status)) return false;
  if (view === "breaching") {
    if (!OPEN.has(row.status) || !row.sla_due) return false;
    if (new Date(row.sla_due).getTime() - Date.now() > 3600 * 1000) return false;
  }
  for (const key of ["status", "tier", "priority", "sentiment"]) {
    const wanted = params.get(key);
    if (wanted && String(row[key]) !== wanted) return false;
  }
  if (params.get("account") && row.account !== params.get("account")) return false;
  if (params.get("platform") && row.platform !== params.get("platform")) return false;
  const team = (params.get("team") || "").toLowerCase();
  if (team && String(row.team ?? "none") !== team) return false;
  const created = new Date(row.created_at).getTime();
  if (params.get("created_after") && created < new Date(params.get("created_after")).getTime()) return false;
  if (params.get("created_before") && created >= new Date(params.get("created_before")).getTime()) return false;
  const q = (params.get("q") || "").trim().toLowerCase();
  if (q) {
    const hay = `${row.contact.handle} ${row.contact.name} ${row.last_message_preview}`.toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

function compare(a, b) {
  const updated = (x) => new Date(x.updated_at).getTime();
  if (sort === "priority") {
    if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
    return updated(b) - updated(a) || b.id - a.id;
  }
  if (sort === "sla_due") {
    const due = (x) => (x.sla_due ? new Date(x.sla_due).getTime() : Infinity);
    return due(a) - due(b) || b.id - a.id;
  }
  return updated(b) - updated(a) || b.id - a.id;
}

function viewerBadge(caseId) {
  const list = (viewers.get(caseId) || []).filter((v) => v.user !== me);
  if (!list.length) return null;
  const text = list.map((v) => `${v.name} ${v.state === "typing" ? "is typing" : "is viewing"}`).join(", ");
  return el("span", { class: "viewers", title: text }, text);
}

function renderRow(row) {
  const sla = slaText(row.sla_due);
  const tr = el(
    "tr",
    {
      class: `case-row p-${row.priority.toLowerCase()} status-${row.status}`,
      id: `case-${row.id}`,
      tabindex: "-1",
      dataset: { id: row.id, due: row.sla_due || "" },
      "aria-selected": selected === row.id ? "true" : "false",
    },
    el("td", {},
      el("span", { class: `badge prio ${row.priority.toLowerCase()}`, title: row.priority_reason || "" }, row.priority),
      el("span", { class: `badge tier ${row.tier}` }, row.tier),
    ),
    el("td", {},
      el("a", { href: `/cases/${row.id}/`, class: "case-link" }, `#${row.number}`),
      el("span", { class: `status ${row.status}` }, row.status),
      el("span", { class: `platform ${row.platform}` }, row.platform),
    ),
    el("td", {},
      el("span", { class: "handle" }, row.contact.handle ? `@${row.contact.handle}` : row.contact.name || `#${row.contact.id}`),
      el("span", { class: "followers", title: `${row.contact.followers} followers` }, followers(row.contact.followers)),
    ),
    el("td", { class: "preview" },
      el("span", { class: `sentiment ${row.sentiment}`, title: `sentiment ${row.sentiment}` }, row.sentiment),
      el("span", { class: "text" }, row.last_message_direction === "out" ? `↩ ${row.last_message_preview}` : row.last_message_preview),
      el("time", { datetime: row.last_message_at || "" }, localTime(row.last_message_at)),
    ),
    el("td", { class: `sla ${sla.state}` }, sla.text),
    el("td", {}, row.assignee_name || el("span", { class: "muted" }, "queue"), viewerBadge(row.id)),
  );
  tr.addEventListener("click", (ev) => {
    if (ev.target.closest("a")) return;
    select(row.id);
  });
  tr.addEventListener("dblclick", () => { location.href = `/cases/${row.id}/`; });
  return tr;
}

function render() {
  const list = [...rows.values()].filter(belongs).sort(compare);
  body.replaceChildren(...list.map(renderRow));
  if (!list.length) {
    body.append(el("tr", { class: "empty" }, el("td", { colspan: 6 }, "Nothing here. New cases appear by themselves.")));
  }
  count.textContent = `${list.length} case${list.length === 1 ? "" : "s"}`;
  if (selected && !rows.has(selected)) selected = null;
  if (selected) document.getElementById(`case-${selected}`)?.setAttribute("aria-selected", "true");
}

function upsert(row, flash) {
  rows.set(row.id, row);
  render();
  if (flash) document.getElementById(`case-${row.id}`)?.classList.add("flash");
}

function visibleIds() {
  return [...body.querySelectorAll("tr.case-row")].map((tr) => Number(tr.dataset.id));
}

function select(id) {
  selected = id;
  for (const tr of body.querySelectorAll("tr.case-row")) {
    tr.setAttribute("aria-selected", Number(tr.dataset.id) === id ? "true" : "false");
  }
  const tr = document.getElementById(`case-${id}`);
  if (tr) { tr.focus({ preventScroll: false }); tr.scrollIntoView({ block: "nearest" }); }
}

function move(step) {
  const ids = visibleIds();
  if (!ids.length) return;
  const at = ids.indexOf(selected);
  select(ids[Math.max(0, Math.min(ids.length - 1, at === -1 ? 0 : at + step))]);
}

async function act(path, payload, done) {
  try {
    const row = await api(path, payload);
    upsert(row, true);
    toast(done);
  } catch (err) {
    toast(err.message, "error");
  }
}

document.addEventListener("keydown", (ev) => {
  if (ev.target.closest("input, textarea, select, [contenteditable]") || ev.metaKey || ev.ctrlKey || ev.altKey) return;
  const help = document.getElementById("help");
  if (ev.key === "?") { help.showModal(); ev.preventDefault(); return; }
  if (ev.key === "j") { move(1); ev.preventDefault(); }
  else if (ev.key === "k") { move(-1); ev.preventDefault(); }
  else if (!selected) return;
  else if (ev.key === "Enter") { location.href = `/cases/${selected}/`; }
  else if (ev.key === "r") { location.href = `/cases/${selected}/#reply`; }
  else if (ev.key === "a") { act(`/api/v1/cases/${selected}/assign/`, { agent: "me" }, "Assigned to you"); }
  else if (ev.key === "e") { act(`/api/v1/cases/${selected}/status/`, { status: "resolved" }, "Resolved"); }
});
document.querySelector("[data-action=help]")?.addEventListener("click", () => document.getElementById("help").showModal());

for (const row of JSON.parse(document.getElementById("initial-rows").textContent)) rows.set(row.id, row);
render();

setInterval(() => {
  for (const td of body.querySelectorAll("td.sla")) {
    const due = td.parentElement.dataset.due;
    const sla = slaText(due || null);
    td.textContent = sla.text;
    td.className = `sla ${sla.state}`;
  }
}, 1000);

connect((event) => {
  if (event.type === "catchup") {
    for (const row of event.rows) rows.set(row.id, row);
    render();
  } else if (event.row) {
    upsert(event.row, event.type === "case.created" || event.type === "message.created");
  } else if (event.type === "presence") {
    viewers.set(event.case, event.viewers || []);
    const row = rows.get(event.case);
    if (row) upsert(row, false);
  }
});
