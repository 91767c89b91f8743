// The journey page: progress and ETA per section, then the player with section markers, and rating.
// State comes from the page (json_script) and /music/journeys/<id>/status/; events from /ws/events/.
import WaveSurfer from "./vendor/wavesurfer-7.12.12.esm.js";

const root = document.getElementById("journey");
const id = Number(root.dataset.id);
const $ = (sel) => document.getElementById(sel);
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]")?.value;
const FINAL = ["succeeded", "failed", "cancelled"];
let state = JSON.parse($("journey-state").textContent);
// Statuses and progress notes arrive in English over the websocket; the page brings their translations.
const LABELS = JSON.parse($("job-labels")?.textContent || "{}");
const noteLabel = (note) => (LABELS.notes || {})[note] || note;
const renderedFinal = FINAL.includes(state.status);
let player = null;
let pollTimer = null;

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

function showProgress(fraction, note, etaS) {
  const pct = Math.round(fraction * 100);
  $("progress").querySelector("span").style.width = `${pct}%`;
  $("progress").setAttribute("aria-valuenow", pct);
  $("progress-pct").textContent = `${pct}%`;
  if (note) $("progress-note").textContent = note;
  $("eta").textContent = etaS != null ? `· ${t("tLeft", fmtTime(etaS))}` : "";
}

// One row per section: done ones full, the current one with its own bar and ETA.
function showSections(current, sectionFraction, sectionEta) {
  document.querySelectorAll("#sections-progress li").forEach((li) => {
    const n = Number(li.dataset.index);
    const fill = n < current ? 1 : n === current ? sectionFraction : 0;
    li.querySelector(".small-bar > span").style.width = `${Math.round(fill * 100)}%`;
    li.classList.toggle("done", n < current || (n === current && sectionFraction >= 1));
    li.classList.toggle("current", n === current && sectionFraction < 1);
    li.querySelector(".section-eta").textContent =
      n === current && sectionEta != null && sectionFraction < 1 ? t("tLeft", fmtTime(sectionEta)) : "";
  });
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
  if (!renderedFinal && FINAL.includes(state.status)) { location.reload(); return; }
  render();
}

function render() {
  setStatus(state.status, state.status_label);
  const final = FINAL.includes(state.status);
  $("progress-box").hidden = final;
  if (!final) {
    // the note says which section renders ("section 2 of 3"); the row stores the count only at the end
    const current = Number((state.note.match(/section (\d+) of/) || [])[1] || state.sections_done + 1);
    showProgress(state.progress, current && state.note.startsWith("section") ? t("tSection", current, state.sections) : state.note_label, null);
    showSections(current, 0, null);
  }
  if (state.error) { $("error").textContent = state.error; $("error").hidden = false; }
  if (state.audio) showPlayer();
  clearTimeout(pollTimer);
  if (!final) pollTimer = setTimeout(refresh, 3000);
}

function drawMarkers() {
  const box = $("markers");
  const buttons = $("marker-buttons");
  box.replaceChildren();
  buttons.replaceChildren();
  const cells = document.querySelectorAll(".plan .start-cell");
  for (const [i, marker] of state.markers.entries()) {
    const tick = document.createElement("span");
    tick.className = "marker";
    tick.style.left = `${(100 * marker.start) / state.duration}%`;
    tick.title = `${marker.label} · ${fmtTime(marker.start)}`;
    tick.textContent = i + 1;
    box.append(tick);
    const jump = document.createElement("button");
    jump.type = "button";
    jump.className = "button ghost marker-jump";
    jump.textContent = `${i + 1} · ${fmtTime(marker.start)}`;
    jump.title = marker.label;
    jump.addEventListener("click", () => { player.setTime(marker.start); player.play(); });
    buttons.append(jump);
    if (cells[i]) cells[i].textContent = fmtTime(marker.start);
  }
}

function showPlayer() {
  $("player-box").hidden = false;
  $("rating-box").hidden = false;
  $("dl-wav").href = state.downloads.audio;
  $("dl-mp3").href = state.downloads.audio_preview;
  if (player) return;
  const audio = $("audio");
  audio.src = state.preview || state.audio;
  const peaks = state.peaks && state.peaks.length ? [state.peaks] : undefined;
  player = WaveSurfer.create({
    container: "#waveform", media: audio, peaks, duration: state.duration || undefined,
    height: 96, waveColor: "#c9c2f5", progressColor: "#7c6cf0", cursorColor: "#f08cb6", barWidth: 2, barGap: 1,
  });
  drawMarkers();
  const label = () => { $("time").textContent = `${fmtTime(audio.currentTime)} / ${fmtTime(state.duration)}`; };
  audio.addEventListener("timeupdate", label);
  label();
  $("play").addEventListener("click", () => player.playPause());
  player.on("play", () => { $("play").textContent = "❚❚"; });
  player.on("pause", () => { $("play").textContent = "▶"; });
}

document.addEventListener("emotune:event", (e) => {
  const ev = e.detail;
  if (ev.job !== "music.journey" || ev.id !== id) return;
  if (ev.type === "job.progress") {
    setStatus("running");
    const note = ev.section ? t("tSection", ev.section, ev.sections) : noteLabel(ev.note);
    showProgress(ev.progress, note, ev.eta_s);
    if (ev.section) showSections(ev.section, ev.section_progress || 0, ev.section_eta_s);
  } else if (ev.type === "job.status") {
    if (FINAL.includes(ev.status) || ev.status !== state.status) refresh();
  }
});
document.addEventListener("emotune:reconnected", refresh);

async function rate(body) {
  const response = await fetch(root.dataset.rateUrl, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
  });
  const data = await response.json();
  $("rating-msg").textContent = data.message || t("tUnsaved");
  if (!response.ok) return;
  document.querySelectorAll(".star").forEach((s) => s.classList.toggle("on", data.stars && Number(s.dataset.stars) <= data.stars));
  document.querySelectorAll(".thumb").forEach((b) => b.classList.toggle("on", String(data.liked) === b.dataset.liked));
}

const current = { stars: null, liked: null };
document.querySelectorAll(".star.on").forEach((s) => { current.stars = Number(s.dataset.stars); });
document.querySelectorAll(".thumb.on").forEach((b) => { current.liked = b.dataset.liked === "true"; });
document.querySelectorAll(".rating button").forEach((button) => button.addEventListener("click", () => {
  if (button.dataset.stars) current.stars = Number(button.dataset.stars);
  else current.liked = button.dataset.liked === "true";
  rate(current);
}));

render();

// A webcam reading for a check-in: snap, post it as the emotion page does, attach the new reading.
for (const box of document.querySelectorAll(".webcam-checkin")) {
  const form = box.closest("form");
  const live = box.querySelector(".webcam-live");
  const video = box.querySelector("video");
  const canvas = box.querySelector("canvas");
  const message = box.querySelector(".webcam-msg");
  const select = form.querySelector("select[name$='reading']");
  box.querySelector(".webcam-start").addEventListener("click", async () => {
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      live.hidden = false;
      message.textContent = "";
    } catch (err) {
      message.textContent = `${t("tCamera")}: ${err.message}`;
    }
  });
  box.querySelector(".webcam-snap").addEventListener("click", async (event) => {
    event.target.disabled = true;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    const body = new FormData();
    body.set("csrfmiddlewaretoken", csrf);
    body.set("media", blob, "webcam.jpg");
    body.set("webcam", "on");
    const response = await fetch(root.dataset.readingUrl, { method: "POST", body });
    event.target.disabled = false;
    const pk = response.redirected && (response.url.match(/\/emotion\/(\d+)\/?$/) || [])[1];
    if (!pk) {
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      message.textContent = doc.querySelector(".error")?.textContent || `HTTP ${response.status}`;
      return;
    }
    video.srcObject?.getTracks().forEach((track) => track.stop());
    live.hidden = true;
    let option = [...select.options].find((o) => o.value === pk);
    if (!option) { option = new Option(`#${pk}`, pk); select.add(option, 1); }
    option.selected = true;
    message.textContent = t("tReading", pk);
    message.dataset.reading = pk;
  });
}
document.addEventListener("emotune:event", (e) => {
  const ev = e.detail;
  if (ev.job !== "emotion.read" || ev.type !== "job.status") return;
  document.querySelectorAll(`.webcam-msg[data-reading="${ev.id}"]`).forEach((m) => {
    m.textContent = ev.status === "succeeded" ? t("tRead", ev.id) : `#${ev.id}: ${ev.status}${ev.error ? ` — ${ev.error}` : ""}`;
  });
});
