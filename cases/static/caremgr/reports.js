// The reports page is a snapshot the server rendered (charts included): no live connection,
// so the header says when the figures were taken instead of "connecting…".
import { localTime } from "./util.js";

const page = document.querySelector(".reports");
const status = document.getElementById("live-status");
if (page && status) {
  status.dataset.state = "snapshot";
  status.textContent = `figures as of ${localTime(page.dataset.generated)}`;
}

// A custom period cannot end before it starts.
const from = document.querySelector(".custom input[name=from]");
const to = document.querySelector(".custom input[name=to]");
if (from && to) {
  const keepOrder = () => { to.min = from.value; };
  from.addEventListener("change", keepOrder);
  keepOrder();
}
