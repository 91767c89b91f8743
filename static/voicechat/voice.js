// Voice chat page: websocket protocol of README.md ("Websocket protocol"), mic via AudioWorklet,
// gapless playback of streamed PCM16, and a sphere driven by the real audio level.
const root = document.getElementById("voice");
const T = JSON.parse(document.getElementById("voice-i18n").textContent);
const $ = (id) => document.getElementById(id);
const stateEl = $("state"), partialEl = $("partial"), log = $("log"), micBtn = $("mic");
const textIn = $("text"), interruptBtn = $("interrupt");

let ws, ctx, micNode, micStream, analyser, playing = [], playHead = 0, sampleRate = 22050;
let state = "connecting", micOn = false, level = 0, answerEl = null, speakingUntil = 0;
window.voiceDebug = { audioChunks: 0, audioBytes: 0, events: [] };

function setState(next, detail) {
  state = next;
  stateEl.dataset.state = next;
  stateEl.textContent = detail || T[next] || next;
  interruptBtn.hidden = !(next === "speaking" || next === "thinking");
}

function bubble(role, text) {
  $("empty")?.remove();
  const li = document.createElement("li");
  li.className = `bubble ${role}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? T.you : T.companion;
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  li.append(who, " ", body);
  log.append(li);
  li.scrollIntoView({ block: "end" });
  return body;
}

function careCard(resources) {
  $("empty")?.remove();
  const li = document.createElement("li");
  li.className = "care";
  li.setAttribute("role", "note");
  const title = document.createElement("strong");
  title.textContent = T.careTitle;
  const lead = document.createElement("span");
  lead.className = "muted";
  lead.textContent = T.careLead;
  const lines = document.createElement("ul");
  lines.className = "care-lines";
  for (const r of resources) {
    const line = document.createElement("li");
    const name = document.createElement("span");
    name.className = "care-name";
    name.textContent = r.name;
    const contact = document.createElement("b");
    contact.className = "care-contact";
    contact.textContent = r.contact;
    line.append(name, " ", contact);
    if (r.note) {
      const note = document.createElement("small");
      note.className = "muted";
      note.textContent = r.note;
      line.append(" ", note);
    }
    lines.append(line);
  }
  li.append(title, " ", lead, lines);
  log.append(li);
  li.scrollIntoView({ block: "end" });
}

function audioContext() {
  if (!ctx) {
    ctx = new AudioContext();
    analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    analyser.connect(ctx.destination);
  }
  if (ctx.state === "suspended") ctx.resume();
  return ctx;
}

// --- playback: schedule each chunk right after the previous one (gapless) ---
function playPcm16(buffer) {
  const ac = audioContext();
  const pcm = new Int16Array(buffer);
  const audio = ac.createBuffer(1, pcm.length, sampleRate);
  const data = audio.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
  const src = ac.createBufferSource();
  src.buffer = audio;
  src.connect(analyser);
  const start = Math.max(ac.currentTime + 0.03, playHead);
  src.start(start);
  playHead = start + audio.duration;
  speakingUntil = playHead;
  playing.push(src);
  src.onended = () => { playing = playing.filter((s) => s !== src); if (!playing.length && state === "speaking") setState(micOn ? "listening" : "idle"); };
  window.voiceDebug.audioChunks += 1;
  window.voiceDebug.audioBytes += buffer.byteLength;
  setState("speaking");
}

function stopPlayback() {
  for (const src of playing) { try { src.stop(); } catch (e) { /* already stopped */ } }
  playing = [];
  playHead = 0;
}

// --- websocket ---
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${proto}://${location.host}${root.dataset.ws}`);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => setState("idle");
  // A close the server decided (4xxx) follows an error event that says why: keep saying it.
  ws.onclose = (e) => setState("closed", e.code >= 4000 && state === "error" ? `${stateEl.textContent} · ${T.closed}` : undefined);
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") { playPcm16(e.data); return; }
    const ev = JSON.parse(e.data);
    const seen = window.voiceDebug.events;
    seen.push(ev.type);
    if (seen.length > 500) seen.splice(0, seen.length - 500);  // a long session must not grow it forever
    handlers[ev.type]?.(ev);
  };
}

const handlers = {
  listening: () => setState("listening"),
  "asr.partial": (ev) => { partialEl.textContent = ev.text; },
  "asr.final": (ev) => { partialEl.textContent = ""; },
  // A new user turn replaces whatever is still playing from the previous answer.
  "turn.start": (ev) => { stopPlayback(); bubble("user", ev.text); answerEl = null; setState("thinking"); },
  "llm.token": (ev) => { if (!answerEl) answerEl = bubble("assistant", ""); answerEl.textContent += ev.text; },
  // The safe answer follows (as llm.token): the helplines come first, in a card of their own.
  "care.crisis": (ev) => { careCard(ev.resources || []); answerEl = null; },
  "llm.done": () => {},
  "tts.start": (ev) => {
    sampleRate = ev.sample_rate;
    // Say which engine and voice speaks this answer (a Mandarin answer may use another engine).
    if (ev.seq === 0 && ev.voice && answerEl && !answerEl.parentElement.querySelector(".voice-tag")) {
      const tag = document.createElement("small");
      tag.className = "voice-tag muted";
      tag.textContent = `${T.spokenBy} ${ev.voice}`;
      answerEl.parentElement.append(" ", tag);
    }
  },
  // Engines still loading after the server started: say so rather than stay silent.
  "engine.loading": () => { setState("loading", T.loading); },
  "engine.ready": () => { if (state === "loading") setState("thinking"); },
  "tts.end": () => {},
  "turn.metrics": () => { if (!playing.length) setState(micOn ? "listening" : "idle"); },
  "turn.interrupted": () => { stopPlayback(); answerEl?.parentElement.classList.add("interrupted"); answerEl = null; setState(micOn ? "listening" : "idle"); },
  "conversation.title": (ev) => {
    const input = document.getElementById("conv-title");
    if (input && !input.matches(":focus")) input.value = ev.title;
    const link = document.querySelector('.convs a[aria-current="page"]');
    if (link) link.textContent = ev.title;
  },
  error: (ev) => { setState("error", `${T.error}: ${ev.message}`); },
  pong: () => {},
};

// --- microphone ---
async function startMic() {
  const ac = audioContext();
  try {
    micStream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
  } catch (e) {
    setState("error", T.micDenied);
    return;
  }
  await ac.audioWorklet.addModule(root.dataset.worklet);
  const source = ac.createMediaStreamSource(micStream);
  micNode = new AudioWorkletNode(ac, "mic-downsampler");
  micNode.port.onmessage = ({ data }) => {
    level = Math.max(level * 0.8, data.level * 4);
    if (ws.readyState === WebSocket.OPEN) ws.send(data.pcm);
  };
  source.connect(micNode);
  ws.send(JSON.stringify({ type: "start", sample_rate: 16000, format: "pcm16" }));
  micOn = true;
  micBtn.setAttribute("aria-pressed", "true");
  micBtn.querySelector("span").textContent = T.stopTalk;
}

function stopMic() {
  micNode?.disconnect();
  micStream?.getTracks().forEach((t) => t.stop());
  micOn = false;
  micBtn.setAttribute("aria-pressed", "false");
  micBtn.querySelector("span").textContent = T.talk;
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
  if (state === "listening") setState("idle");
}

micBtn.addEventListener("click", () => (micOn ? stopMic() : startMic()));
interruptBtn.addEventListener("click", () => {
  stopPlayback();
  ws.send(JSON.stringify({ type: "interrupt" }));
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = textIn.value.trim();
  if (!text || ws.readyState !== WebSocket.OPEN) return;
  audioContext(); // a user gesture: allow playback
  if (playing.length) { stopPlayback(); ws.send(JSON.stringify({ type: "interrupt" })); }
  ws.send(JSON.stringify({ type: "text", text }));
  textIn.value = "";
});
$("speaker").addEventListener("change", (e) => {
  const form = $("speaker-form");
  form.action = form.action.replace(/\/0\/activate\/$/, `/${e.target.value}/activate/`);
  form.submit();
});

// --- sphere: radius and glow follow the live level (mic while listening, playback while speaking) ---
const canvas = $("sphere"), g = canvas.getContext("2d");
const wave = new Uint8Array(256);
function draw(t) {
  let target = 0;
  if (analyser && playing.length) {
    analyser.getByteTimeDomainData(wave);
    let sum = 0;
    for (const v of wave) sum += ((v - 128) / 128) ** 2;
    target = Math.sqrt(sum / wave.length) * 4;
  } else if (micOn) {
    target = level;
    level *= 0.92;
  }
  const amp = Math.min(1, target);
  window.voiceDebug.level = amp;
  const w = canvas.width, h = canvas.height, cx = w / 2, cy = h / 2;
  g.clearRect(0, 0, w, h);
  const base = 48 + amp * 40;
  const hue = { speaking: 170, listening: 255, thinking: 40, error: 0 }[state] ?? 255;
  const grad = g.createRadialGradient(cx - 15, cy - 15, 5, cx, cy, base + 10);
  grad.addColorStop(0, `hsla(${hue}, 80%, 75%, 1)`);
  grad.addColorStop(1, `hsla(${hue + 20}, 70%, 45%, .9)`);
  g.beginPath();
  for (let a = 0; a <= Math.PI * 2 + 0.01; a += Math.PI / 48) {
    const wobble = amp * 10 * Math.sin(a * 6 + t / 180) + (state === "thinking" ? 4 * Math.sin(a * 3 + t / 300) : 0);
    const r = base + wobble;
    g.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
  }
  g.fillStyle = grad;
  g.shadowColor = `hsla(${hue}, 80%, 60%, ${0.3 + amp * 0.6})`;
  g.shadowBlur = 20 + amp * 40;
  g.fill();
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);
connect();
