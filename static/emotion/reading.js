// A reading in progress: move the bar on job events, reload once it is final.
// The page itself renders the result, so a reload shows exactly what the server stored.
const root = document.getElementById("reading");
const id = Number(root.dataset.id);
const bar = document.getElementById("bar");
const note = document.getElementById("note");
const FINAL = ["succeeded", "failed", "cancelled"];
// Notes arrive over the websocket in English; the page gives their translations.
const NOTES = JSON.parse(document.getElementById("job-labels")?.textContent || "{}").notes || {};

document.addEventListener("emotune:event", (e) => {
  const ev = e.detail;
  if (ev.job !== "emotion.read" || ev.id !== id) return;
  if (bar) bar.style.width = `${Math.round(ev.progress * 100)}%`;
  if (note && ev.note) note.textContent = NOTES[ev.note] || ev.note;
  if (ev.type === "job.status" && FINAL.includes(ev.status)) location.reload();
});

// Reconnected, or finished before the socket opened: the server knows the state.
async function recheck() {
  const response = await fetch(location.href, { headers: { "X-Requested-With": "fetch" } });
  const html = await response.text();
  const match = html.match(/data-status="(\w+)"/);
  if (match && FINAL.includes(match[1])) location.reload();
}
document.addEventListener("emotune:reconnected", recheck);
setTimeout(recheck, 1500);
