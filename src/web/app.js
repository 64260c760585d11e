// The page of `ziffer serve`: draw, send the drawing as a PNG to /api/predict (the same
// preprocessing as `ziffer predict`), and show what comes back. No library, no network
// access beyond this server.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const statusLine = document.getElementById("status");
let model = null;
let strokes = [];      // each stroke: a list of [x, y] in canvas pixels
let current = null;
let timer = null;
let inFlight = 0;

function clearPad() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
}

function redraw() {
  clearPad();
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const s of strokes) {
    if (s.length === 1) {
      ctx.beginPath();
      ctx.arc(s[0][0], s[0][1], 9, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(s[0][0], s[0][1]);
    for (const [x, y] of s.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", (e) => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  current = [point(e)];
  strokes.push(current);
  redraw();
  schedule();
});
pad.addEventListener("pointermove", (e) => {
  if (!current) return;
  current.push(point(e));
  redraw();
  schedule();
});
function endStroke() { if (current) { current = null; schedule(); } }
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

document.getElementById("clear").addEventListener("click", () => { strokes = []; redraw(); showEmpty(); });
document.getElementById("undo").addEventListener("click", () => { strokes.pop(); redraw(); strokes.length ? schedule() : showEmpty(); });
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "z") { e.preventDefault(); document.getElementById("undo").click(); }
  if (e.key === "Escape") document.getElementById("clear").click();
});
document.getElementById("file").addEventListener("change", (e) => {
  const file = e.target.files[0];
  if (file) send(file, file.type || "application/octet-stream");
});

function showEmpty() {
  statusLine.textContent = "Draw a digit in the black square.";
  document.getElementById("answer").textContent = "–";
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (!strokes.length) return;
    pad.toBlob((blob) => blob && send(blob, "image/png"), "image/png");
  }, 120);
}

async function send(body, type) {
  const id = ++inFlight;
  try {
    const response = await fetch("/api/predict", { method: "POST", headers: { "Content-Type": type }, body });
    const data = await response.json();
    if (id !== inFlight) return; // a newer drawing was sent
    if (!response.ok) { statusLine.textContent = data.error || ("error " + response.status); return; }
    statusLine.textContent = "";
    show(data);
  } catch (err) {
    statusLine.textContent = "The server did not answer: " + err.message;
  }
}

function shade(ctx2, values, signed) {
  const img = ctx2.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = values[i];
    let r, g, b;
    if (signed) {
      const a = Math.min(1, Math.abs(v));
      r = v > 0 ? 255 : Math.round(255 * (1 - a));
      b = v < 0 ? 255 : Math.round(255 * (1 - a));
      g = Math.round(255 * (1 - a));
    } else {
      r = g = b = Math.round(255 * v);
    }
    img.data.set([r, g, b, 255], 4 * i);
  }
  ctx2.putImageData(img, 0, 0);
}

function show(data) {
  const answer = document.getElementById("answer");
  const pct = (p) => (100 * p).toFixed(1) + "%";
  // The model's class names: the digits, or e.g. Fashion-MNIST's.
  const name = (c) => (model ? model.class_names[c] : String(c));
  if (data.unsure) {
    answer.className = "answer unsure";
    answer.textContent = "Not sure: maybe " + name(data.digit) + " (" + pct(data.probability) +
      "), or " + name(data.runner_up) + " (" + pct(data.runner_up_probability) + "). " +
      data.unsure;
  } else {
    answer.className = "answer";
    answer.textContent = name(data.digit) + " (" + pct(data.probability) + ")";
  }
  const bars = document.getElementById("bars");
  bars.replaceChildren();
  data.probabilities.forEach((p, c) => {
    const label = document.createElement("span");
    label.textContent = name(c);
    const track = document.createElement("div");
    const bar = document.createElement("div");
    bar.className = "bar" + (c === data.digit ? " top" : "");
    bar.style.width = pct(p);
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", name(c) + ": " + pct(p));
    track.appendChild(bar);
    const value = document.createElement("span");
    value.textContent = pct(p);
    bars.append(label, track, value);
  });
  shade(document.getElementById("input").getContext("2d"), data.input, false);
  showLayers(data.activations);
}

function showLayers(activations) {
  const root = document.getElementById("layers");
  root.replaceChildren();
  activations.forEach((values, i) => {
    const last = i === activations.length - 1;
    const box = document.createElement("div");
    box.className = "layer";
    const title = document.createElement("h3");
    title.textContent = last ? "Output layer (" + values.length + ")" : "Hidden layer " + (i + 1) + " (" + values.length + " neurons)";
    const grid = document.createElement("div");
    grid.className = "grid" + (last ? " output" : "");
    const columns = last ? values.length : Math.ceil(Math.sqrt(values.length * 2));
    grid.style.gridTemplateColumns = "repeat(" + columns + ", 1fr)";
    values.forEach((v, n) => {
      const cell = document.createElement(last ? "div" : "button");
      cell.className = "cell";
      const level = Math.round(255 * Math.max(0, Math.min(1, v)));
      cell.style.background = "rgb(" + level + "," + level + "," + level + ")";
      if (last) {
        cell.style.color = level > 128 ? "#000" : "#fff"; // readable on any shade
        cell.textContent = model ? model.class_names[n] : n;
        cell.title = "digit " + n + ": " + v.toFixed(3);
      } else {
        cell.type = "button";
        cell.title = "layer " + (i + 1) + ", neuron " + n + ": " + v.toFixed(3);
        cell.setAttribute("aria-label", cell.title);
        cell.addEventListener("click", () => showNeuron(i, n));
      }
      grid.appendChild(cell);
    });
    box.append(title, grid);
    root.appendChild(box);
  });
}

function showNeuron(layer, n) {
  if (!model || !model.looks_for[layer]) return;
  const panel = document.getElementById("neuron");
  panel.hidden = false;
  document.getElementById("neuron-title").textContent = "Layer " + (layer + 1) + ", neuron " + n + " looks for";
  const values = model.looks_for[layer][n].map((v) => v / 100);
  shade(document.getElementById("neuron-image").getContext("2d"), values, true);
}

async function loadModel() {
  try {
    const response = await fetch("/api/model");
    model = await response.json();
    const acc = model.test_accuracy == null ? "not measured" : (100 * model.test_accuracy).toFixed(2) + "%";
    document.getElementById("model-info").textContent = "Network " + model.layers.join("-") + ", " +
      model.activation + ", " + model.parameters.toLocaleString("en") + " parameters, " +
      model.epochs + " epochs, test accuracy " + acc + ".";
    const weights = document.getElementById("weights");
    (model.looks_for[0] || []).forEach((w, n) => {
      const c = document.createElement("canvas");
      c.width = 28; c.height = 28;
      c.tabIndex = 0;
      c.title = "layer 1, neuron " + n;
      c.setAttribute("role", "button");
      c.setAttribute("aria-label", "weights of layer 1, neuron " + n);
      shade(c.getContext("2d"), w.map((v) => v / 100), true);
      c.addEventListener("click", () => showNeuron(0, n));
      c.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); showNeuron(0, n); } });
      weights.appendChild(c);
    });
  } catch (err) {
    document.getElementById("model-info").textContent = "Cannot load the model: " + err.message;
  }
}

clearPad();
loadModel();
