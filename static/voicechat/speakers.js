// Record a reference clip in the browser and put it into the form's file input.
const button = document.getElementById("record");
const stateEl = document.getElementById("record-state");
const input = document.getElementById("id_reference");
const T = JSON.parse(document.getElementById("rec-i18n").textContent);
const label = button?.lastChild;  // the "Record" text after the red dot
const idleLabel = label?.textContent;
let recorder = null, started = 0;

button?.addEventListener("click", async () => {
  if (recorder) { recorder.stop(); return; }
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); }
  catch (e) { stateEl.textContent = T.denied; return; }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
    const file = new File([blob], "recording.webm", { type: blob.type });
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    stateEl.textContent = T.done.replace("%s", ((Date.now() - started) / 1000).toFixed(1));
    label.textContent = idleLabel;
    button.setAttribute("aria-pressed", "false");
    recorder = null;
  };
  recorder.start();
  started = Date.now();
  label.textContent = T.stop;
  button.setAttribute("aria-pressed", "true");
  stateEl.textContent = T.recording;
});
