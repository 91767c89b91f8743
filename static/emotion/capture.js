// Emotion page: upload / webcam tabs; the webcam snapshot is posted like an upload.
const tabs = [...document.querySelectorAll('[role="tab"]')];
for (const tab of tabs) {
  tab.addEventListener("click", () => {
    for (const other of tabs) {
      other.setAttribute("aria-selected", String(other === tab));
      document.getElementById(other.getAttribute("aria-controls")).hidden = other !== tab;
    }
  });
}

const video = document.getElementById("webcam-video");
const canvas = document.getElementById("webcam-canvas");
const start = document.getElementById("webcam-start");
const snap = document.getElementById("webcam-snap");
const error = document.getElementById("webcam-error");

function showError(text) {
  error.textContent = text;
  error.hidden = false;
}

start.addEventListener("click", async () => {
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    snap.disabled = false;
    error.hidden = true;
  } catch (err) {
    showError(`${start.dataset.denied || "Camera unavailable"}: ${err.message}`);
  }
});

snap.addEventListener("click", async () => {
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  const form = new FormData(document.getElementById("upload-form"));
  form.set("media", blob, "webcam.jpg");
  form.set("webcam", "on");
  snap.disabled = true;
  const response = await fetch(location.href, { method: "POST", body: form });
  if (response.redirected) {
    location.href = response.url;
    return;
  }
  snap.disabled = false;
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  showError(doc.querySelector(".error")?.textContent || `HTTP ${response.status}`);
});
