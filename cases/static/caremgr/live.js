// The live connection: one WebSocket to /ws/inbox/, reconnecting by itself with backoff and
// catching up on what it missed (events carry a growing `seq`; after a reconnect the server
// sends the current rows of every case changed since the last seq seen).

const statusEl = () => document.getElementById("live-status");

function setStatus(state, text) {
  const el = statusEl();
  if (!el) return;
  el.dataset.state = state;
  el.textContent = text;
}

// Frames can be lost without the socket closing (a full group, a Redis hiccup the socket
// survives), so an open connection also asks now and then for what changed since lastSeq.
const CATCHUP_EVERY_MS = 20000;

export function connect(onEvent) {
  let socket = null;
  // The page was rendered as of this timeline id: anything newer is caught up on open.
  let lastSeq = Number(document.body.dataset.seq || 0);
  let attempts = 0;
  const queue = [];

  function remember(seq) {
    if (typeof seq === "number" && seq > lastSeq) lastSeq = seq;
  }

  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/inbox/`);
    socket.addEventListener("open", () => {
      setStatus("live", "live");
      socket.send(JSON.stringify({ type: "catchup", since: lastSeq }));
      attempts = 0;
      while (queue.length) socket.send(queue.shift());
    });
    socket.addEventListener("message", (msg) => {
      let event;
      try { event = JSON.parse(msg.data); } catch { return; }
      remember(event.seq);
      onEvent(event);
    });
    socket.addEventListener("close", (ev) => {
      if (ev.code === 4401) { setStatus("offline", "logged out"); return; }
      attempts += 1;
      const wait = Math.min(30000, 500 * 2 ** Math.min(attempts, 6));
      setStatus("reconnecting", "reconnecting…");
      setTimeout(open, wait);
    });
  }

  open();
  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "catchup", since: lastSeq }));
  }, CATCHUP_EVERY_MS);
  return {
    send(payload) {
      const text = JSON.stringify(payload);
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
      else queue.push(text);
    },
  };
}
