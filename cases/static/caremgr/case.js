// The case page: live conversation, presence ("Dana is typing"), the reply guard, controls.
import { connect } from "./live.js";
import { api, el, localTime, slaText, toast } from "./util.js";

const page = document.querySelector(".case-page");
const caseId = Number(page.dataset.case);
const me = Number(page.dataset.me);
const messages = document.getElementById("messages");
const replyForm = document.getElementById("reply");
const replyText = document.getElementById("reply-text");
const guard = document.getElementById("typing-guard");
const presenceEl = document.getElementById("presence");
const slaEl = document.getElementById("case-sla");
let others = [];
let repliesByOthers = 0;

for (const t of document.querySelectorAll("time[datetime]")) t.textContent = localTime(t.getAttribute("datetime"));

function tickSla() {
  const sla = slaText(slaEl.dataset.due || null);
  slaEl.textContent = sla.text;
  slaEl.className = `sla ${sla.state}`;
}
tickSla();
setInterval(tickSla, 1000);

function showPresence() {
  const list = others.filter((v) => v.user !== me);
  presenceEl.textContent = list.map((v) => `${v.name} is ${v.state}`).join(", ");
  const typing = list.filter((v) => v.state === "typing");
  guard.hidden = typing.length === 0;
  guard.textContent = typing.length ? `${typing.map((v) => v.name).join(", ")} is typing a reply to this case too.` : "";
}

function appendMessage(m) {
  if (document.getElementById(`message-${m.id}`)) return;
  const who = m.direction === "in" ? `@${m.author.handle || m.author.name}` : `${m.author.name || "us"}${m.is_automatic ? " · automatic" : ""}`;
  messages.append(
    el("li", { class: `message ${m.direction}${m.is_automatic ? " automatic" : ""} flash`, id: `message-${m.id}` },
      el("div", { class: "who" }, who, " ",
        el("time", { datetime: m.created_at }, localTime(m.created_at)), " ",
        el("span", { class: `sentiment ${m.sentiment.label}` }, m.sentiment.label),
        m.direction === "out" ? el("span", { class: `send ${m.status}` }, m.status) : null),
      el("p", { class: "text" }, m.text),
      m.direction === "out" ? el("p", { class: "send-error", id: `send-error-${m.id}`, role: "status", hidden: !m.error }, m.error || "") : null,
      m.direction === "out" ? el("button", { type: "button", class: "link", "data-resend": m.id, hidden: m.status !== "failed" }, "Resend") : null));
  showSend(m);
}

// A reply's sending status: queued, sent, or failed with the platform's reason and a way
// to send it again.
function showSend(m) {
  const status = document.getElementById(`send-${m.id}`) || document.querySelector(`#message-${m.id} .send`);
  if (!status) return;
  status.id = `send-${m.id}`;
  status.textContent = m.status;
  status.className = `send ${m.status}`;
  const error = document.getElementById(`send-error-${m.id}`);
  if (error) { error.textContent = m.error || ""; error.hidden = !m.error; }
  const resend = document.querySelector(`[data-resend="${m.id}"]`);
  if (resend) resend.hidden = m.status !== "failed";
}

function applyRow(row) {
  document.getElementById("case-status").textContent = row.status;
  const prio = document.getElementById("case-priority");
  prio.textContent = row.priority;
  prio.className = `badge prio ${row.priority.toLowerCase()}`;
  prio.title = row.priority_reason || "";
  document.getElementById("status").value = row.status;
  document.getElementById("priority").value = row.priority;
  document.getElementById("assign").value = row.assignee === null ? "none" : String(row.assignee);
  slaEl.dataset.due = row.sla_due || "";
  tickSla();
}

const live = connect((event) => {
  if (event.case !== caseId && event.type !== "catchup") return;
  if (event.type === "presence") { others = event.viewers || []; showPresence(); }
  else if (event.type === "message.created") {
    appendMessage(event.message);
    if (event.message.direction === "out" && event.message.sent_by !== me) repliesByOthers += 1;
    applyRow(event.row);
  } else if (event.type === "message.updated") {
    showSend(event.message);
  } else if (event.type === "catchup") {
    const row = event.rows.find((r) => r.id === caseId);
    if (row) { applyRow(row); catchUpMessages(); }
  } else if (event.row) applyRow(event.row);
});

// The case changed while frames were lost (a reconnect, a Redis hiccup): the row says so,
// the messages and their send status come from the API, without a reload.
async function catchUpMessages() {
  try {
    const detail = await api(`/api/v1/cases/${caseId}/`);
    for (const m of detail.messages) { appendMessage(m); showSend(m); }
  } catch { /* the next catch-up tries again */ }
}
live.send({ type: "presence", case: caseId, state: "viewing" });
setInterval(() => live.send({ type: "presence", case: caseId, state: typingUntil > Date.now() ? "typing" : "viewing" }), 30000);
window.addEventListener("pagehide", () => live.send({ type: "presence", case: caseId, state: "left" }));

let typingUntil = 0;
replyText.addEventListener("input", () => {
  const wasTyping = typingUntil > Date.now();
  typingUntil = Date.now() + 5000;
  if (!wasTyping) live.send({ type: "presence", case: caseId, state: "typing" });
  clearTimeout(replyText._idle);
  replyText._idle = setTimeout(() => live.send({ type: "presence", case: caseId, state: "viewing" }), 5000);
  suggest();
});

replyForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = replyText.value.trim();
  if (!text) return;
  const typing = others.filter((v) => v.user !== me && v.state === "typing");
  if (typing.length || repliesByOthers) {
    const who = typing.map((v) => v.name).join(", ") || "A colleague";
    const ok = window.confirm(`${who} ${typing.length ? "is replying" : "already replied"} to this case. Send your reply anyway?`);
    if (!ok) return;
  }
  try {
    const message = await api(`/api/v1/cases/${caseId}/reply/`, { text });
    appendMessage(message);
    replyText.value = "";
    repliesByOthers = 0;
    live.send({ type: "presence", case: caseId, state: "viewing" });
    toast("Reply queued");
  } catch (err) { toast(err.message, "error"); }
});

document.getElementById("canned").addEventListener("change", (ev) => {
  const option = ev.target.selectedOptions[0];
  if (option && option.dataset.text) { replyText.value = option.dataset.text; replyText.focus(); }
});

let suggestTimer = null;
function suggest() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    try {
      const articles = await api(`/api/v1/cases/${caseId}/suggestions/`);
      const box = document.getElementById("suggestions");
      box.replaceChildren(...articles.map((a) => el("button", {
        type: "button", class: "suggestion", title: a.body,
        onclick: () => { replyText.value = `${replyText.value} ${a.body} ${a.url || ""}`.trim(); },
      }, `Suggest: ${a.title}`)));
    } catch { /* suggestions are optional */ }
  }, 400);
}
suggest();

document.getElementById("note").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const box = document.getElementById("note-text");
  try {
    await api(`/api/v1/cases/${caseId}/notes/`, { text: box.value });
    document.getElementById("timeline").append(el("li", { class: "event note" }, el("span", { class: "kind" }, "note"), " ", el("p", { class: "text" }, box.value)));
    box.value = "";
    toast("Note added");
  } catch (err) { toast(err.message, "error"); }
});

const controls = {
  assign: (v) => ["assign", { agent: v === "none" ? null : v }],
  status: (v) => ["status", { status: v }],
  priority: (v) => ["priority", { priority: v }],
  tier: (v) => ["tier", { tier: v }],
};
for (const [id, build] of Object.entries(controls)) {
  document.getElementById(id).addEventListener("change", async (ev) => {
    const [action, payload] = build(ev.target.value);
    try { applyRow(await api(`/api/v1/cases/${caseId}/${action}/`, payload)); toast("Saved"); }
    catch (err) { toast(err.message, "error"); }
  });
}

document.getElementById("merge").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const into = Number(document.getElementById("merge-into").value);
  try { const row = await api(`/api/v1/cases/${caseId}/merge/`, { into }); location.href = `/cases/${row.id}/`; }
  catch (err) { toast(err.message, "error"); }
});

messages.addEventListener("click", async (ev) => {
  const resend = ev.target.closest("[data-resend]");
  if (!resend) return;
  resend.disabled = true;
  try { showSend(await api(`/api/v1/messages/${resend.dataset.resend}/resend/`, {})); toast("Reply queued again"); }
  catch (err) { toast(err.message, "error"); }
  finally { resend.disabled = false; }
});

messages.addEventListener("click", async (ev) => {
  const button = ev.target.closest("[data-split]");
  if (!button) return;
  try { const row = await api(`/api/v1/messages/${button.dataset.split}/split/`, {}); location.href = `/cases/${row.id}/`; }
  catch (err) { toast(err.message, "error"); }
});

if (location.hash === "#reply") replyText.focus();
