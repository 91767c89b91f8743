// Refreshes the ops dashboard from its JSON endpoint; stops while the tab is hidden.
const root = document.getElementById("ops-dashboard");
const url = root.dataset.url;
const every = Math.max(2, Number(root.dataset.refresh) || 10) * 1000;
const T = JSON.parse(document.getElementById("ops-i18n").textContent);
let timer = null;

const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const size = (bytes) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const num = (value) => (value === null || value === undefined ? "—" : esc(value));
const when = (iso) => `<time datetime="${esc(iso)}">${esc(new Date(iso).toLocaleString())}</time>`;

// Server times arrive as ISO 8601; show them in the reader's own time zone and format.
function localTimes() {
  for (const el of root.querySelectorAll("time[datetime]")) el.textContent = new Date(el.dateTime).toLocaleString();
}

function rows(id, items, render, colspan, empty) {
  document.getElementById(id).innerHTML = items.length
    ? items.map(render).join("")
    : `<tr><td colspan="${colspan}">${esc(empty)}</td></tr>`;
}

function render(data) {
  const updated = document.getElementById("ops-updated");
  updated.dateTime = data.at;
  updated.textContent = new Date(data.at).toLocaleString();
  document.getElementById("ops-errors").innerHTML = Object.entries(data.errors)
    .map(([part, error]) => `<p class="errornote">${esc(part)}: ${esc(error)}</p>`).join("");
  rows("ops-queues", data.queues, (q) => `<tr data-queue="${esc(q.name)}"><td><a href="${esc(q.url)}">${esc(q.name)}</a></td>
    <td class="num">${q.depth}</td><td>${q.oldest ? `${esc(q.oldest.description)} (${q.oldest.waiting_s} s)` : "—"}</td>
    <td class="num">${q.started}</td><td class="num"><a href="${esc(q.failed_url)}">${q.failed}</a></td></tr>`, 5, "—");
  rows("ops-workers", data.workers, (w) => `<tr data-worker="${esc(w.name)}"><td>${esc(w.name)}<br><small>${esc(w.host)} pid ${esc(w.pid)}</small></td>
    <td>${esc((w.queues || []).join(", "))}</td><td>${esc(w.current_job || T.idle)}</td>
    <td>${esc((w.models || []).join(", ") || "—")}</td>
    <td>${w.gpu ? `<div class="ops-bar"><span style="width:${w.gpu_percent}%"></span></div>${size(w.gpu.used)} / ${size(w.gpu.total)}` : esc(T.noGpu)}</td>
    <td>${w.age_s} s ${esc(T.ago)}</td></tr>`, 6, T.noWorkers);
  const stats = [...data.stats.hour.map((s) => [T.lastHour, s]), ...data.stats.day.map((s) => [T.lastDay, s])];
  rows("ops-stats", stats, ([window, s]) => `<tr data-job="${esc(s.job)}"><td>${esc(window)}</td><td>${esc(s.job)}</td>
    <td class="num">${s.succeeded}</td><td class="num">${s.failed}</td><td class="num">${s.cancelled}</td>
    <td class="num">${num(s.p50_s)}</td><td class="num">${num(s.p95_s)}</td></tr>`, 7, T.noJobs);
  rows("ops-failures", data.failures, (f) => `<tr><td>${when(f.at)}</td><td><a href="${esc(f.admin_url)}">${esc(f.job)} #${f.id}</a></td>
    <td>${esc(f.user)}</td><td>${esc(f.worker)}</td><td class="ops-error">${esc(f.error)}</td></tr>`, 5, T.noFailures);
}

async function refresh() {
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) render(await response.json());
  } catch (error) {
    console.warn("ops dashboard refresh failed", error);
  }
}

function schedule() {
  clearInterval(timer);
  timer = null;
  const state = document.getElementById("ops-refresh-state");
  if (document.hidden) {
    state.textContent = T.paused;
    return;
  }
  state.textContent = T.on;
  timer = setInterval(refresh, every);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
  schedule();
});
window.opsDashboard = { refresh, isPolling: () => timer !== null };
localTimes();
schedule();
