// The drawing pad of Try it: a plain <canvas> that owns its strokes, its Clear, Undo and pen width.
//
// Why it looks like this: Streamlit calls this function again whenever the data passed from Python
// changes, with the same parentElement, so the pad lives on parentElement and is built once per
// mount. Every message to Python is the WHOLE drawing (all strokes since the last Clear and a PNG
// of exactly what is on screen), never a delta: when reruns overlap, the last message wins and it
// is complete, so no stroke can be lost between messages and no old ink can come back.

const BACKGROUND = "#000000";
const INK = "#ffffff";

function strokePath(context, stroke) {
  // stroke = [width, x0, y0, x1, y1, ...] in canvas pixels; one point (or one repeated) is a dot
  const width = stroke[0];
  context.lineWidth = width;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = INK;
  context.fillStyle = INK;
  let moves = false;
  for (let i = 3; i + 1 < stroke.length; i += 2) {
    if (stroke[i] !== stroke[1] || stroke[i + 1] !== stroke[2]) { moves = true; break; }
  }
  context.beginPath();
  if (!moves) {
    context.arc(stroke[1], stroke[2], width / 2, 0, 2 * Math.PI);
    context.fill();
    return;
  }
  context.moveTo(stroke[1], stroke[2]);
  for (let i = 3; i + 1 < stroke.length; i += 2) context.lineTo(stroke[i], stroke[i + 1]);
  context.stroke();
}

function button(label, title) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.title = title;
  element.setAttribute("aria-label", title);
  return element;
}

function createPad(root, data) {
  const wide = data.width, high = data.height;
  const pad = { strokes: [], current: null, sequence: 0, width: data.strokeWidth, send: null };

  const frame = document.createElement("div");
  frame.className = "pad";
  const canvas = document.createElement("canvas");
  canvas.width = wide;
  canvas.height = high;
  canvas.className = "pad-canvas";
  canvas.setAttribute("data-testid", "drawing-pad");
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    wide > high ? "Drawing area: write a number with the mouse, a pen or a finger"
      : "Drawing area: draw one digit with the mouse, a pen or a finger",
  );
  canvas.style.maxWidth = wide + "px";
  canvas.style.aspectRatio = wide + " / " + high;
  const context = canvas.getContext("2d", { willReadFrequently: true });

  const tools = document.createElement("div");
  tools.className = "pad-tools";
  const undo = button("↶ Undo", "Undo the last stroke");
  const clear = button("✕ Clear", "Clear the drawing");
  clear.className = "pad-clear";
  const widthLabel = document.createElement("label");
  widthLabel.className = "pad-width";
  widthLabel.textContent = "Pen ";
  const width = document.createElement("input");
  width.type = "range";
  width.min = String(data.minWidth);
  width.max = String(data.maxWidth);
  width.value = String(pad.width);
  width.setAttribute("aria-label", "Pen width");
  widthLabel.appendChild(width);
  tools.append(undo, clear, widthLabel);
  frame.append(canvas, tools);
  root.appendChild(frame);

  function paint() {
    context.fillStyle = BACKGROUND;
    context.fillRect(0, 0, wide, high);
    for (const stroke of pad.strokes) strokePath(context, stroke);
    undo.disabled = clear.disabled = pad.strokes.length === 0;
  }

  function publish() {
    pad.sequence += 1;
    const png = pad.strokes.length ? canvas.toDataURL("image/png") : null;
    pad.send("drawing", { sequence: pad.sequence, strokes: pad.strokes, png: png });
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    const scale = wide / box.width; // the canvas may be shown smaller than its pixels on a phone
    const x = Math.round((event.clientX - box.left) * scale);
    const y = Math.round((event.clientY - box.top) * scale);
    return [Math.max(0, Math.min(wide - 1, x)), Math.max(0, Math.min(high - 1, y))];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    pad.current = [pad.width, x, y];
    strokePath(context, [pad.width, x, y, x, y]);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!pad.current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) {
      const [x, y] = point(each);
      const n = pad.current.length;
      if (x === pad.current[n - 2] && y === pad.current[n - 1]) continue;
      strokePath(context, [pad.width, pad.current[n - 2], pad.current[n - 1], x, y]);
      pad.current.push(x, y);
    }
  });
  const finish = () => {
    if (!pad.current) return;
    const stroke = pad.current;
    pad.current = null;
    if (stroke.length === 3) stroke.push(stroke[1], stroke[2]); // a dot
    pad.strokes.push(stroke);
    paint(); // the canonical picture of the strokes: what is sent is what is on screen
    publish();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("lostpointercapture", finish);

  undo.addEventListener("click", () => {
    if (!pad.strokes.length) return;
    pad.strokes.pop();
    paint();
    publish();
  });
  clear.addEventListener("click", () => {
    if (!pad.strokes.length) return;
    pad.strokes = [];
    paint();
    publish();
  });
  width.addEventListener("input", () => { pad.width = Number(width.value); });
  // Where the slider comes to rest is told to Python, which hands it to the next pad it mounts:
  // the chosen width outlives a page switch, as the drawing does.
  width.addEventListener("change", () => { pad.send("pen", Number(width.value)); });

  // Coming back to the page: show the drawing Python kept for this visitor, without a message back
  // (Python already reads that drawing), so no rerun is caused by the return itself.
  if (data.restore && Array.isArray(data.restore.strokes)) {
    pad.strokes = data.restore.strokes.map((stroke) => stroke.slice());
    pad.sequence = data.restore.sequence || 0;
  }
  paint();
  return pad;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let pad = parentElement.__digitPad;
  if (!pad) {
    pad = createPad(parentElement, data);
    parentElement.__digitPad = pad;
  }
  pad.send = setStateValue; // the newest function Streamlit gave us
}
