// The generation page: live progress with ETA and queue position, then the player and rating.
// State comes from the page (json_script) and /music/<id>/status/; events from /ws/events/.
import WaveSurfer from "./vendor/wavesurfer-7.12.12.esm.js";

const root = document.getElementById("generation");
const id = Number(root.dataset.id);
const $ = (sel) => document.getElementById(sel);
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]")?.value;
let state = JSON.parse($("generation-state").textContent);
// Statuses and progress notes arrive in English over the websocket; the page brings their translations.
const LABELS = JSON.parse($("job-labels")?.textContent || "{}");
const noteLabel = (note) => (LABELS.notes || {})[note] || note;
const FINAL = ["succeeded", "failed", "cancelled"];
const renderedFinal = FINAL.includes(state.status);
let player = null;
let pollTimer = null;

// Translated strings come from the template's data-t-* attributes.
function t(name, ...values) {
  let text = root.dataset[name] || "";
  for (const value of values) text = text.replace("%s", value);
  return text;
}

function fmtTime(s) {
  if (s == null || !isFinite(s)) return "";
  s = Math.max(0, Math.round(s));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function showProgress(fraction, note, etaS, extra = {}) {
  const pct = Math.round(fraction * 100);
  $("progress").querySelector("span").style.width = `${pct}%`;
  $("progress").setAttribute("aria-valuenow", pct);
  $("progress-pct").textContent = `${pct}%`;
  let text = note || "";
  if (extra.tokens_total) text += ` (${t("tTokens", extra.tokens, extra.tokens_total)})`;
  if (text) $("progress-note").textContent = text;
  $("eta").textContent = etaS != null ? `· ${t("tLeft", fmtTime(etaS))}` : "";
}

function showQueue(position) {
  $("queue").textContent = position ? `· ${t("tQueue", position)}` : "";
}

function setStatus(status, label) {
  const pill = $("status-pill");
  pill.className = `pill ${status}`;
  pill.textContent = label || (LABELS.statuses || {})[status] || status;
  root.dataset.status = status;
}

async function refresh() {
  const response = await fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  state = await response.json();
  // prompts, score and parameters are drawn by the server: redraw the page once the job is over
  if (!renderedFinal && FINAL.includes(state.status)) { location.reload(); return; }
  render();
}

function render() {
  setStatus(state.status, state.status_label);
  const final = ["succeeded", "failed", "cancelled"].includes(state.status);
  $("progress-box").hidden = final;
  if (!final) {
    showProgress(state.progress, state.note_label, null);
    showQueue(state.queue_position);
  }
  if (state.error) { $("error").textContent = state.error; $("error").hidden = false; }
  if (state.status === "succeeded") showPlayer();
  clearTimeout(pollTimer);
  // Re-read while not final: the queue position moves without events, and an event lost
  // while the socket was (re)connecting must not leave the page stuck.
  if (!final) pollTimer = setTimeout(refresh, 3000);
}

function showPlayer() {
  $("player-box").hidden = false;
  $("rating-box").hidden = false;
  $("dl-wav").href = state.downloads.audio;
  $("dl-mp3").href = state.downloads.audio_preview;
  if (state.downloads.video) { $("dl-video").href = state.downloads.video; $("dl-video").hidden = false; }
  if (player) return;
  const audio = $("audio");
  audio.src = state.preview || state.audio;
  const peaks = state.peaks && state.peaks.length ? [state.peaks] : undefined;
  player = WaveSurfer.create({
    container: "#waveform", media: audio, peaks, duration: state.duration || undefined,
    height: 96, waveColor: "#c9c2f5", progressColor: "#7c6cf0", cursorColor: "#f08cb6", barWidth: 2, barGap: 1,
  });
  const label = () => { $("time").textContent = `${fmtTime(audio.currentTime)} / ${fmtTime(state.duration)}`; };
  audio.addEventListener("timeupdate", label);
  label();
  $("play").addEventListener("click", () => player.playPause());
  player.on("play", () => { $("play").textContent = "❚❚"; });
  player.on("pause", () => { $("play").textContent = "▶"; });
}

document.addEventListener("emotune:event", (e) => {
  const ev = e.detail;
  if (ev.job !== "music.generate" || ev.id !== id) return;
  if (ev.type === "job.progress") {
    setStatus("running");
    showQueue(null);
    showProgress(ev.progress, noteLabel(ev.note), ev.eta_s, ev);
  } else if (ev.type === "job.status") {
    if (["succeeded", "failed", "cancelled"].includes(ev.status) || ev.status !== state.status) refresh();
  }
});
document.addEventListener("emotune:reconnected", refresh);

async function rate(body, button) {
  const response = await fetch(root.dataset.feedbackUrl, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
  });
  const data = await response.json();
  $("rating-msg").textContent = data.message || t("tUnsaved");
  if (!response.ok) return;
  document.querySelectorAll(".star").forEach((s) => s.classList.toggle("on", data.stars && Number(s.dataset.stars) <= data.stars));
  document.querySelectorAll(".thumb").forEach((t) => t.classList.toggle("on", String(data.liked) === t.dataset.liked));
}

let current = { stars: null, liked: null };
document.querySelectorAll(".star.on").forEach((s) => { current.stars = Number(s.dataset.stars); });
document.querySelectorAll(".thumb.on").forEach((t) => { current.liked = t.dataset.liked === "true"; });
document.querySelectorAll(".rating button").forEach((button) => button.addEventListener("click", () => {
  if (button.dataset.stars) current.stars = Number(button.dataset.stars);
  else current.liked = button.dataset.liked === "true";
  rate(current, button);
}));

render();
