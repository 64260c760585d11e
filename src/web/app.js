// The page of `ziffer serve`: draw, send the drawing as a PNG to /api/predict (the same
// preprocessing as `ziffer predict`), and show what comes back; teach it one drawing through
// /api/learn; and, under `ziffer train --serve`, watch training live through the server-sent
// events of /api/training/events. No library, no network access beyond this server.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const statusLine = document.getElementById("status");
let model = null;
let strokes = [];      // each stroke: a list of [x, y] in canvas pixels
let current = null;
let timer = null;
let inFlight = 0;
let lastInput = null;  // the 784 inputs of the last answer, for "learn this"
let label = null;      // the class chosen for "learn this"

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
  if (!strokes.length) { label = null; redraw(); } // a new drawing: its class is to be chosen again
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

// A test-set digit instead of a drawing: shown on the pad, read as the network reads MNIST
// (already centred by mass, so not preprocessed again), and its true class chosen for "learn this".
document.getElementById("test-digit").addEventListener("submit", async (e) => {
  e.preventDefault();
  const index = document.getElementById("test-index").value;
  try {
    const response = await fetch("/api/test-digit?index=" + encodeURIComponent(index));
    const digit = await response.json();
    if (!response.ok) { statusLine.textContent = digit.error || ("error " + response.status); return; }
    strokes = [];
    const small = document.createElement("canvas");
    small.width = 28; small.height = 28;
    shade(small.getContext("2d"), digit.pixels, false);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, pad.width, pad.height);
    statusLine.textContent = "Test digit " + digit.index + " of " + digit.count.toLocaleString("en") +
      ", labelled " + (model ? model.class_names[digit.label] : digit.label) + ".";
    chooseLabel(digit.label);
    const id = ++inFlight;
    const answer = await fetch("/api/predict", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pixels: digit.pixels, preprocess: false }),
    });
    const data = await answer.json();
    if (id !== inFlight) return;
    if (!answer.ok) { statusLine.textContent = data.error || ("error " + answer.status); return; }
    show(data);
  } catch (err) {
    statusLine.textContent = "The server did not answer: " + err.message;
  }
});

function showEmpty() {
  statusLine.textContent = "Draw a digit in the black square.";
  document.getElementById("answer").textContent = "–";
  lastInput = null;
  label = null;
  document.getElementById("learn").disabled = true;
  document.querySelectorAll("#labels button").forEach((b) => b.setAttribute("aria-checked", "false"));
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
  lastInput = data.input;
  if (data.strongest) showNetwork(data);
  if (label === null) chooseLabel(data.digit);
  document.getElementById("learn").disabled = false;
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
    // Each formula links to its line in docs/how-it-works.md, which the server serves.
    document.querySelectorAll("a.formula").forEach((a) => {
      const line = model.docs && model.docs[a.dataset.doc];
      if (line) a.href = "/how-it-works#L" + line;
    });
    makeLabels();
    if (model.live_training && !live) startLive();
    const weights = document.getElementById("weights");
    weights.replaceChildren();
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

// ---- The network view: columns of neurons, the strongest connections for this input ----------

function showNetwork(data) {
  const svg = document.getElementById("network");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const sizes = [784].concat(data.activations.map((a) => a.length));
  const width = 400, height = 300, top = 10, bottom = 290;
  const columnX = (l) => (l === 0 ? 10 : 70 + (l - 1) * (width - 90) / Math.max(1, sizes.length - 2));
  // The input is drawn as its 28x28 image, 56 px wide; each pixel is a point of it.
  const position = (l, i) => {
    if (l === 0) return [10 + (i % 28) * 2 + 1, top + 100 + Math.floor(i / 28) * 2 + 1];
    const n = sizes[l];
    return [columnX(l), top + (bottom - top) * (n === 1 ? 0.5 : i / (n - 1))];
  };
  const image = document.createElementNS(ns, "image");
  const small = document.createElement("canvas");
  small.width = 28; small.height = 28;
  shade(small.getContext("2d"), data.input, false);
  image.setAttribute("href", small.toDataURL());
  image.setAttribute("x", 10); image.setAttribute("y", top + 100);
  image.setAttribute("width", 56); image.setAttribute("height", 56);
  image.setAttribute("style", "image-rendering: pixelated");
  svg.appendChild(image);
  const largest = Math.max(1e-9, ...data.strongest.flat().map((c) => Math.abs(c.value)));
  data.strongest.forEach((connections, l) => {
    for (const c of connections) {
      const [x1, y1] = position(l, c.from);
      const [x2, y2] = position(l + 1, c.to);
      const line = document.createElementNS(ns, "line");
      line.setAttribute("x1", x1); line.setAttribute("y1", y1);
      line.setAttribute("x2", x2); line.setAttribute("y2", y2);
      line.setAttribute("stroke", c.value > 0 ? "#c53030" : "#2b6cb0");
      line.setAttribute("stroke-opacity", "0.6");
      line.setAttribute("stroke-width", (0.3 + 3 * Math.abs(c.value) / largest).toFixed(2));
      svg.appendChild(line);
    }
  });
  data.activations.forEach((values, i) => {
    const l = i + 1;
    const last = l === sizes.length - 1;
    values.forEach((v, n) => {
      const [x, y] = position(l, n);
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x); dot.setAttribute("cy", y);
      dot.setAttribute("r", last ? 6 : Math.max(1.2, Math.min(4, 120 / values.length)));
      const level = Math.round(255 * Math.max(0, Math.min(1, v)));
      dot.setAttribute("fill", "rgb(" + level + "," + level + "," + level + ")");
      dot.setAttribute("stroke", "#555");
      dot.setAttribute("stroke-width", "0.3");
      const title = document.createElementNS(ns, "title");
      title.textContent = (last ? "output " + (model ? model.class_names[n] : n) : "layer " + l + ", neuron " + n) + ": " + v.toFixed(3);
      dot.appendChild(title);
      svg.appendChild(dot);
      if (last) {
        const text = document.createElementNS(ns, "text");
        text.setAttribute("x", x + 9); text.setAttribute("y", y + 4);
        text.setAttribute("font-size", "11");
        text.textContent = model ? model.class_names[n] : n;
        svg.appendChild(text);
      }
    });
  });
}

// ---- Teach it: one forward pass, one backward pass, one update, for the drawing alone ----------

function makeLabels() {
  const root = document.getElementById("labels");
  if (root.children.length) return;
  model.class_names.forEach((name, c) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = name;
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", "false");
    b.setAttribute("aria-label", "it is " + name);
    b.addEventListener("click", () => chooseLabel(c));
    root.appendChild(b);
  });
}

function chooseLabel(c) {
  label = c;
  document.querySelectorAll("#labels button").forEach((b, i) => b.setAttribute("aria-checked", String(i === c)));
}

document.getElementById("learn").addEventListener("click", async () => {
  const teachStatus = document.getElementById("teach-status");
  if (!lastInput || label === null) { teachStatus.textContent = "Draw a digit and choose its class first."; return; }
  try {
    const response = await fetch("/api/learn", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pixels: lastInput, label, preprocess: false }),
    });
    const data = await response.json();
    if (!response.ok) { teachStatus.textContent = data.error || ("error " + response.status); return; }
    showLesson(data);
  } catch (err) {
    teachStatus.textContent = "The server did not answer: " + err.message;
  }
});

function barRow(root, name, value, scale, cls, text) {
  const labelCell = document.createElement("span");
  labelCell.textContent = name;
  const track = document.createElement("div");
  const bar = document.createElement("div");
  bar.className = "bar " + cls;
  bar.style.width = (100 * Math.min(1, Math.abs(value) / scale)).toFixed(1) + "%";
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", name + ": " + text);
  track.appendChild(bar);
  const valueCell = document.createElement("span");
  valueCell.textContent = text;
  root.append(labelCell, track, valueCell);
}

function showLesson(data) {
  const name = (c) => model.class_names[c];
  const pct = (p) => (100 * p).toFixed(1) + "%";
  document.getElementById("lesson").hidden = false;
  document.getElementById("teach-status").textContent = "Taught " + name(data.label) + " with η = " +
    data.lr + ": its probability went from " + pct(data.probabilities_before[data.label]) + " to " +
    pct(data.probabilities_after[data.label]) + "; the loss from " + data.loss_before.toFixed(4) +
    " to " + data.loss_after.toFixed(4) + ".";
  const error = document.getElementById("output-error");
  error.replaceChildren();
  const errors = data.output_before.map((a, c) => a - data.target[c]);
  const largest = Math.max(1e-9, ...errors.map(Math.abs));
  errors.forEach((e, c) => {
    barRow(error, name(c) + (data.target[c] ? " (Y=1)" : ""), e, largest, e < 0 ? "negative" : "", e.toFixed(3));
  });
  const grads = document.getElementById("gradients");
  grads.replaceChildren();
  data.changed_most.forEach((n) => {
    const c = document.createElement("canvas");
    c.width = 28; c.height = 28;
    c.tabIndex = 0;
    c.title = "layer 1, neuron " + n + ": dW row";
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", "the gradient of layer 1, neuron " + n);
    shade(c.getContext("2d"), data.gradients[n].map((v) => v / 100), true);
    grads.appendChild(c);
  });
  const pairs = document.getElementById("before-after");
  pairs.replaceChildren();
  data.probabilities_before.forEach((p, c) => {
    const after = data.probabilities_after[c];
    const labelCell = document.createElement("span");
    labelCell.textContent = name(c);
    const track = document.createElement("div");
    for (const [value, cls] of [[p, "before"], [after, "after"]]) {
      const bar = document.createElement("div");
      bar.className = "bar " + cls;
      bar.style.width = pct(value);
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", name(c) + " " + cls + ": " + pct(value));
      track.appendChild(bar);
    }
    const valueCell = document.createElement("span");
    valueCell.textContent = pct(p) + " → " + pct(after);
    pairs.append(labelCell, track, valueCell);
  });
}

// ---- Watch it learn: the events of `ziffer train --serve` -------------------------------------

let live = null;

function startLive() {
  const panel = document.getElementById("training-panel");
  panel.hidden = false;
  live = { epochs: [], running: [], total: null, source: new EventSource("/api/training/events") };
  const on = (name, f) => live.source.addEventListener(name, (e) => f(JSON.parse(e.data)));
  const status = document.getElementById("training-status");
  on("start", (d) => {
    live.total = d.done_before + d.epochs;
    status.textContent = "Training " + d.layers.join("-") + " for " + d.epochs + " epochs on " +
      d.images.toLocaleString("en") + " images.";
  });
  on("progress", (d) => {
    document.getElementById("training-progress").value = d.batches / d.batches_per_epoch;
    const loss = d.running_loss == null ? "" : ", running loss " + d.running_loss.toFixed(4);
    status.textContent = "Epoch " + d.epoch + (live.total ? " of " + live.total : "") + ", learning rate " +
      d.lr + ": batch " + d.batches + " of " + d.batches_per_epoch + ", " +
      Math.round(d.images_per_second).toLocaleString("en") + " images/s" + loss + ".";
    if (d.running_loss != null) { live.running.push([d.epoch - 1 + d.batches / d.batches_per_epoch, d.running_loss]); drawCurves(); }
  });
  on("epoch", (d) => {
    live.epochs.push(d);
    live.running = live.running.filter(([x]) => x > d.epoch);
    const v = d.validation_accuracy == null ? "" : ", validation " + (100 * d.validation_accuracy).toFixed(2) + "%";
    status.textContent = "Epoch " + d.epoch + " done in " + d.seconds.toFixed(1) + " s: loss " +
      d.train_loss.toFixed(4) + ", test " + (100 * d.test_accuracy).toFixed(2) + "%" + v + ".";
    drawCurves();
  });
  on("snapshot", (d) => { drawTrainingWeights(d.weights); drawConfusion(d.confusion); });
  on("done", (d) => {
    live.source.close();
    document.getElementById("training-progress").value = 1;
    const acc = d.test_accuracy == null ? "" : ": test accuracy " + (100 * d.test_accuracy).toFixed(2) + "%";
    status.textContent = "Training " + (d.stopped ? "stopped (" + d.stopped + ")" : "finished") +
      " after " + d.epochs + " epochs" + acc + ". Draw a digit to try the new model.";
    document.body.classList.add("trained");
    loadModel();  // the drawing view, with the trained model, without reloading the page
    pad.focus();
  });
}

function axes(canvas, yMin, yMax, label) {
  const c = canvas.getContext("2d");
  c.clearRect(0, 0, canvas.width, canvas.height);
  c.strokeStyle = "#999"; c.fillStyle = "#333"; c.font = "11px system-ui";
  c.strokeRect(40, 10, canvas.width - 50, canvas.height - 35);
  c.fillText(yMax.toFixed(label === "%" ? 1 : 3), 2, 16);
  c.fillText(yMin.toFixed(label === "%" ? 1 : 3), 2, canvas.height - 25);
  c.fillText("epoch", canvas.width - 40, canvas.height - 5);
  return c;
}

function plot(c, canvas, points, xMax, yMin, yMax, color, dashed) {
  if (!points.length) return;
  const x = (v) => 40 + (canvas.width - 50) * v / Math.max(1, xMax);
  const y = (v) => 10 + (canvas.height - 35) * (1 - (v - yMin) / Math.max(1e-9, yMax - yMin));
  c.strokeStyle = color; c.fillStyle = color; c.setLineDash(dashed ? [4, 3] : []);
  c.beginPath();
  points.forEach(([px, py], i) => (i ? c.lineTo(x(px), y(py)) : c.moveTo(x(px), y(py))));
  c.stroke();
  c.setLineDash([]);
  if (!dashed) points.forEach(([px, py]) => { c.beginPath(); c.arc(x(px), y(py), 2.5, 0, 7); c.fill(); });
}

function drawCurves() {
  const xMax = Math.max(live.total || 1, live.epochs.length);
  const lossCanvas = document.getElementById("loss-curve");
  const losses = live.epochs.map((e) => [e.epoch, e.train_loss]);
  const all = losses.map((p) => p[1]).concat(live.running.map((p) => p[1]));
  const top = all.length ? Math.max(...all) : 1;
  const c = axes(lossCanvas, 0, top, "");
  plot(c, lossCanvas, losses, xMax, 0, top, "#2f855a", false);
  plot(c, lossCanvas, live.running, xMax, 0, top, "#2f855a", true);
  const accCanvas = document.getElementById("accuracy-curve");
  const test = live.epochs.map((e) => [e.epoch, 100 * e.test_accuracy]);
  const validation = live.epochs.filter((e) => e.validation_accuracy != null).map((e) => [e.epoch, 100 * e.validation_accuracy]);
  const values = test.concat(validation).map((p) => p[1]);
  const low = values.length ? Math.floor(Math.min(...values)) : 0;
  const a = axes(accCanvas, low, 100, "%");
  plot(a, accCanvas, test, xMax, low, 100, "#2b6cb0", false);
  plot(a, accCanvas, validation, xMax, low, 100, "#c05621", false);
}

function drawTrainingWeights(weights) {
  const root = document.getElementById("training-weights");
  while (root.children.length < weights.length) {
    const c = document.createElement("canvas");
    c.width = 28; c.height = 28;
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", "weights of layer 1, neuron " + root.children.length);
    root.appendChild(c);
  }
  weights.forEach((w, n) => shade(root.children[n].getContext("2d"), w.map((v) => v / 100), true));
}

function drawConfusion(confusion) {
  const table = document.getElementById("confusion");
  table.replaceChildren();
  if (!confusion) return;
  const head = document.createElement("tr");
  head.appendChild(document.createElement("th"));
  confusion.forEach((_, c) => { const th = document.createElement("th"); th.textContent = model ? model.class_names[c].slice(0, 3) : c; head.appendChild(th); });
  table.appendChild(head);
  confusion.forEach((row, t) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = model ? model.class_names[t].slice(0, 3) : t;
    tr.appendChild(th);
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((n, p) => {
      const td = document.createElement("td");
      td.textContent = n;
      const share = n / total;
      td.style.background = t === p ? "rgba(47,133,90," + share + ")" : "rgba(197,48,48," + Math.min(1, 5 * share) + ")";
      td.title = n + " images of " + t + " read as " + p;
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
}

clearPad();
loadModel();
