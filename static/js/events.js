// One websocket per page to /ws/events/: the user's job progress and status.
// Pages listen with: document.addEventListener("emotune:event", e => e.detail)
// The database is the source of truth: after a reconnect, pages re-read state
// (they receive an "emotune:reconnected" event).

const RETRY_MAX_MS = 15000;
let retry = 500;
let opened = false;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/events/`);
  socket.addEventListener("open", () => {
    if (opened) document.dispatchEvent(new CustomEvent("emotune:reconnected"));
    opened = true;
    retry = 500;
  });
  socket.addEventListener("message", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    document.dispatchEvent(new CustomEvent("emotune:event", { detail: event }));
  });
  socket.addEventListener("close", (close) => {
    if (close.code === 4401 || close.code === 4403) return;  // signed out or deactivated
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, RETRY_MAX_MS);
  });
}

connect();
