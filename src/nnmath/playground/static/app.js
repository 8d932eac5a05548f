// nnmath playground: the page. It draws what the server's session sends — the network is
// trained by nnmath in Python; nothing here computes the network's math.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  // One colour scale for every value: −1 at one end, 0 grey-white, +1 at the other. Both
  // maps are diverging pairs that stay apart for every kind of colour blindness (blue
  // against orange; ColorBrewer's PuOr), and a class beyond the first two takes the next
  // of Okabe and Ito's colours, chosen to be told apart by colour-blind readers.
  const PALETTES = {
    "blue-orange": { neg: [245, 147, 34], pos: [8, 119, 189], names: ["orange", "blue"] },
    "purple-orange": { neg: [179, 88, 6], pos: [84, 39, 136], names: ["orange", "purple"] },
  };
  const DEFAULT_PALETTE = "blue-orange";
  const MORE_CLASSES = [
    [204, 121, 167], [86, 180, 233], [0, 158, 115], [240, 228, 66], [213, 94, 0],
    [0, 0, 0], [153, 153, 153], [0, 114, 178],
  ];
  const MORE_NAMES = ["pink", "sky blue", "green", "yellow", "vermilion", "black", "grey", "dark blue"];
  const MID = [232, 234, 235];
  let NEG, POS, CLASS_COLORS, CLASS_NAMES, palette = null;
  const LUT = new Uint8ClampedArray(256 * 3);
  function usePalette(name) {
    palette = PALETTES[name] ? name : DEFAULT_PALETTE;
    ({ neg: NEG, pos: POS } = PALETTES[palette]);
    CLASS_COLORS = [NEG, POS, ...MORE_CLASSES];
    CLASS_NAMES = [...PALETTES[palette].names, ...MORE_NAMES];
    for (let i = 0; i < 256; i++) {
      const t = i / 255 * 2 - 1, to = t < 0 ? NEG : POS, k = Math.abs(t);
      for (let c = 0; c < 3; c++) LUT[i * 3 + c] = MID[c] + (to[c] - MID[c]) * k;
    }
    document.documentElement.style.setProperty("--neg", rgb(NEG));
    document.documentElement.style.setProperty("--pos", rgb(POS));
  }
  const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
  const lutColor = (i) => {
    const j = Math.max(0, Math.min(255, Math.round(i)));
    return `rgb(${LUT[j * 3]},${LUT[j * 3 + 1]},${LUT[j * 3 + 2]})`;
  };
  usePalette(DEFAULT_PALETTE);
  const SUB = "₀₁₂₃₄₅₆₇₈₉";
  const sub = (n) => String(n).split("").map((d) => SUB[+d]).join("");

  // The settings the link carries, by kind.
  const NUMERIC = ["points", "noise", "split", "seed", "learning_rate", "l2", "l1", "batch_size"];
  const DATA_KEYS = ["dataset", "points", "noise", "split", "seed", "x1_column", "x2_column",
    "target_column", "missing", "formula", "features", "hidden", "activation", "loss"];
  const DATASET_NAMES = {
    circle: "circle", xor: "XOR", gauss: "2 blobs", spiral: "spiral", three: "3 classes",
    curve: "f curve", plane: "plane", multigauss: "bumps", surface: "f surface",
  };
  const REGRESSION_SETS = ["plane", "multigauss", "surface"];
  const FROM_FORMULA = ["curve", "surface"];

  const state = {
    id: null, ws: null, config: null, frame: null, pending: null, raf: false,
    showTest: false, chart: [], chartKey: null, math: null, pinned: null, preview: null,
    nodes: [], links: [], linkColumns: null, lastError: null, previews: null,
    told: { text: "", at: 0, playing: null, noteEpoch: null }, note: null, noteVersion: null, notedKey: null,
    stats: { received: 0, rendered: 0, fps: 0, eps: 0, t0: performance.now(), e0: 0, r0: 0 },
  };
  window.playgroundStats = state.stats;
  window.playground = state;  // for a look from the browser's console (and the tests)
  window.playgroundPalettes = PALETTES;

  // ------------------------------------------------------------------ messages
  let bannerTimer = null;
  function showError(text, sticky = false) {
    $("banner-text").textContent = text;
    $("banner").hidden = false;
    clearTimeout(bannerTimer);
    if (!sticky) bannerTimer = setTimeout(() => { $("banner").hidden = true; }, 9000);
  }
  $("banner-close").onclick = () => { $("banner").hidden = true; };

  // ------------------------------------------------------------------ the link
  function encodeHash(settings) {
    const parts = [];
    for (const [k, v] of Object.entries(settings)) {
      if (v === null || v === undefined) continue;
      parts.push(`${k}=${encodeURIComponent(Array.isArray(v) ? v.join(",") : String(v))}`);
    }
    if (state.showTest) parts.push("test=1");
    if (palette !== DEFAULT_PALETTE) parts.push(`colours=${palette}`);
    return "#" + parts.join("&");
  }
  function decodeHash(hash) {
    const settings = {};
    let showTest = false, colours = null;
    for (const part of hash.replace(/^#/, "").split("&")) {
      if (!part) continue;
      const i = part.indexOf("=");
      const key = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      const raw = i < 0 ? "" : decodeURIComponent(part.slice(i + 1));
      const num = (s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : s);
      if (key === "test") showTest = raw === "1";
      else if (key === "colours") colours = raw;
      else if (NUMERIC.includes(key)) settings[key] = num(raw);
      else if (key === "features") settings[key] = raw ? raw.split(",") : [];
      else if (key === "hidden") settings[key] = raw ? raw.split(",").map(num) : [];
      else settings[key] = raw;
    }
    return { settings, showTest, colours };
  }

  function writeHash(hash) {
    state.writtenHash = hash;
    history.replaceState(null, "", hash);
  }
  // A link pasted into this tab's address bar: start again with its settings.
  window.addEventListener("hashchange", async () => {
    if (location.hash === state.writtenHash) return;
    const ws = state.ws;
    state.ws = null;
    if (ws) ws.close();  // which frees the old session
    state.config = null;
    state.frame = null;
    state.chart = [];
    openMath(false);
    await start();
  });

  // ------------------------------------------------------------------ the server
  async function api(path, { method = "POST", body = null, file = null, type = null } = {}) {
    const options = { method, headers: {} };
    if (body !== null) {
      options.body = JSON.stringify(body);
      options.headers["Content-Type"] = "application/json";
    }
    if (file !== null) {
      options.body = file;
      options.headers["Content-Type"] = type || "text/csv";
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const err = new Error(data && data.error ? data.error : `${response.status} ${response.statusText}`);
      err.setting = data && data.setting;
      throw err;
    }
    return data;
  }
  const at = (path) => `/api/sessions/${state.id}${path}`;

  async function createSession(settings) {
    const wanted = { ...settings }, refused = [];
    for (let tries = 0; tries < 20; tries++) {
      try {
        const config = await api("/api/sessions", { body: wanted });
        if (refused.length) showError(refused.join(" "), true);
        return config;
      } catch (err) {
        if (!err.setting || !(err.setting in wanted)) throw err;
        if (err.setting === "dataset" && wanted.dataset === "csv") {
          refused.push("This link was made with an uploaded CSV file: upload the same file to train on it again.");
        } else {
          refused.push(`The link's ${err.setting} was not used: ${err.message}.`);
        }
        delete wanted[err.setting];
      }
    }
    throw new Error("the link's settings were refused");
  }

  async function start() {
    const { settings, showTest, colours } = decodeHash(location.hash);
    state.showTest = showTest;
    $("show-test").checked = showTest;
    let saved = null;
    try { saved = localStorage.getItem("nnmath-playground-colours"); } catch (err) { saved = null; }
    usePalette(colours || saved || DEFAULT_PALETTE);
    $("colours").value = palette;
    if (settings.dataset === "csv") {
      state.linkColumns = {
        x1_column: settings.x1_column, x2_column: settings.x2_column,
        target_column: settings.target_column,
      };
      if (settings.missing) state.linkColumns.missing = settings.missing;
    }
    let config;
    try {
      config = await createSession(settings);
    } catch (err) {
      showError(`Could not start a session: ${err.message}`, true);
      return;
    }
    state.id = config.id;
    applyConfig(config);
    connect();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/sessions/${state.id}/stream`);
    state.ws = ws;
    const beat = setInterval(() => { if (ws.readyState === 1) ws.send("alive"); }, 10000);
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "config") applyConfig(msg);
      else if (msg.type === "frame") queueFrame(msg);
    };
    ws.onclose = () => {
      clearInterval(beat);
      if (state.ws !== ws) return;
      state.ws = null;
      showError("Lost the connection to the playground server; trying again…", true);
      setTimeout(reconnect, 1500);
    };
  }

  async function reconnect() {
    const settings = { ...(state.config ? state.config.settings : {}) };
    if (settings.dataset === "csv") delete settings.dataset;
    try {
      const config = await createSession(settings);
      state.id = config.id;
      state.config = null;
      applyConfig(config);
      connect();
      $("banner").hidden = true;
    } catch (err) {
      setTimeout(reconnect, 2000);
    }
  }
  window.addEventListener("pagehide", () => { if (state.ws) state.ws.close(); });

  // ------------------------------------------------------------------ configuration
  function setSelect(id, value) {
    const select = $(id), text = String(value);
    if (![...select.options].some((o) => o.value === text)) {
      const option = document.createElement("option");
      option.value = option.textContent = text;
      select.appendChild(option);
    }
    select.value = text;
  }

  function applyConfig(config) {
    if (state.config && state.config.version === config.version) return;
    const s = config.settings;
    const key = JSON.stringify(DATA_KEYS.map((k) => s[k]));
    if (key !== state.chartKey) { state.chart = []; state.chartKey = key; }
    state.config = config;
    state.told.text = "";  // the next frame is told again, in the words of this configuration
    // every hidden activation of the library's registry is offered, named as the library names it
    for (const name of config.activation_choices || []) {
      if (![...$("activation").options].some((o) => o.value === name)) {
        const option = document.createElement("option");
        option.value = option.textContent = name;
        $("activation").appendChild(option);
      }
    }
    for (const id of ["learning_rate", "l2", "l1", "batch_size", "optimizer", "activation"]) setSelect(id, s[id]);
    const regression = config.kind === "regression";
    $("loss").querySelector('option[value="cross_entropy"]').disabled = regression;
    setSelect("loss", s.loss);
    for (const id of ["split", "noise", "points"]) $(id).value = s[id];
    showRangeValues();
    const csv = s.dataset === "csv";
    for (const el of document.querySelectorAll(".field.builtin")) el.hidden = csv;
    $("regenerate").textContent = csv ? "Shuffle the split" : "Regenerate";
    for (const button of $("datasets").querySelectorAll("button")) {
      button.classList.toggle("selected", button.dataset.name === s.dataset);
      button.setAttribute("aria-pressed", String(button.dataset.name === s.dataset));
    }
    const upload = config.upload;
    $("csv-columns").hidden = !upload;
    if (upload) {
      $("csv-info").textContent = `${upload.name}: ${upload.rows} rows, ${upload.columns.length} columns` +
        (csv ? "" : " (choose it again: upload the file)");
      fillColumns("x1_column", upload.numeric, s.x1_column, upload.missing);
      fillColumns("x2_column", upload.numeric, s.x2_column, upload.missing);
      fillColumns("target_column", upload.columns, s.target_column, upload.missing);
      setSelect("missing", s.missing);
    }
    const said = csv && config.missing ? missingInWords(config.missing, upload) : "";
    $("csv-missing").textContent = said;
    // said once by the live region, with the next announcement, when rows had empty cells
    const noteKey = csv ? `${upload.name}|${s.x1_column}|${s.x2_column}|${s.target_column}|${s.missing}` : null;
    if (said && config.missing.rows && noteKey !== state.notedKey) {
      state.note = said;
      state.noteVersion = config.version;
      state.told.noteEpoch = null;
    }
    state.notedKey = noteKey;
    const presets = config.formula_presets || {};
    const preset = Object.keys(presets).find((k) => presets[k] === s.formula);
    $("formula-preset").value = preset || "";
    if (document.activeElement !== $("formula") || !$("formula").value) $("formula").value = s.formula;
    $("formula").removeAttribute("aria-invalid");
    const [x0, x1, y0, y1] = config.extent.map((v) => String(+v.toFixed(1)).replace("-", "−"));
    const axis = (name, what, lo, hi) => `${name}${what === name ? "" : ` = ${what}`}, from ${lo} to ${hi}`;
    $("axis-x").textContent = `→ ${axis("x₁", config.axes[0], x0, x1)}`;
    $("axis-y").textContent = `↑ ${axis("x₂", config.axes[1], y0, y1)}`;
    writeHash(encodeHash(s));
    $("dl-model").href = at("/model.safetensors");
    const onnx = $("dl-onnx");
    onnx.href = config.onnx ? at("/model.onnx") : "#";
    onnx.classList.toggle("off", !config.onnx);
    onnx.title = config.onnx ? "The trained network as an ONNX graph"
      : 'ONNX export needs the onnx package: pip install "nnmath[onnx]"';
    const inputs = config.features.filter((f) => f.enabled).map((f) => f.label).join(", ");
    const out = config.kind === "binary" ? `ŷ = P(${config.target_name} = ${config.classes[1]})`
      : config.kind === "multiclass" ? `ŷ = P(each of ${config.classes.length} classes)` : `ŷ ≈ ${config.target_name}`;
    $("inputs-note").textContent = `The model's inputs, in order: ${inputs}; output ${out}.`;
    $("n-layers").textContent = `${s.hidden.length} hidden layer${s.hidden.length === 1 ? "" : "s"}`;
    $("add-layer").disabled = s.hidden.length >= 6;
    $("remove-layer").disabled = s.hidden.length === 0;
    drawLegend();
    buildNetwork();
    if (state.frame) { state.pending = state.pending || state.frame; scheduleRender(); }
  }

  function fillColumns(id, names, value, missing = {}) {
    const select = $(id);
    select.innerHTML = "";
    for (const name of names) {
      const option = document.createElement("option");
      option.value = name;
      const n = missing[name] || 0;
      option.textContent = n ? `${name} (${n} empty)` : name;
      select.appendChild(option);
    }
    select.value = value || "";
  }
  // What was done with the rows that have empty cells, in a sentence.
  function missingInWords(m, upload) {
    const used = upload.rows - m.left_out;
    if (!m.rows) return `No empty cells in the chosen columns: all ${upload.rows} rows are used.`;
    const where = Object.entries(m.by_column).map(([c, n]) => `${c}: ${n}`).join(", ");
    const rows = (n) => `${n} row${n === 1 ? "" : "s"}`;
    let text = `${rows(m.rows)} with empty cells in the chosen columns (${where}): `;
    const done = [];
    if (m.left_out) done.push(`${rows(m.left_out)} left out`);
    if (m.filled) {
      const medians = Object.entries(m.medians).map(([c, v]) => `${c} = ${+v.toPrecision(4)}`).join(", ");
      done.push(`${rows(m.filled)} filled with the median (${medians})`);
    }
    text += done.join("; ");
    if (m.policy === "fill" && m.left_out) text += " (a class label is not made up)";
    return `${text}. ${used} of ${upload.rows} rows are used.`;
  }

  function showRangeValues() {
    $("split-value").textContent = `${$("split").value} %`;
    $("noise-value").textContent = $("noise").value;
    $("points-value").textContent = $("points").value;
  }

  function drawLegend() {
    const c = state.config, legend = $("legend");
    legend.innerHTML = "";
    if (c.kind === "regression") {
      const lo = c.target_center - c.target_scale, hi = c.target_center + c.target_scale;
      legend.innerHTML = `<span>${lo.toPrecision(2)}</span><span class="bar"></span>` +
        `<span>${hi.toPrecision(2)}</span><span>${escapeHtml(c.target_name)}</span>`;
      return;
    }
    c.classes.forEach((name, k) => {
      const color = c.kind === "binary" ? (k === 0 ? NEG : POS) : CLASS_COLORS[k % CLASS_COLORS.length];
      const item = document.createElement("span");
      item.innerHTML = `<span class="sw" style="background:${rgb(color)}"></span>${escapeHtml(name)}`;
      legend.appendChild(item);
    });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));
  }

  // ------------------------------------------------------------------ the network
  function makeCanvas(size) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    return canvas;
  }

  function column(head) {
    const col = document.createElement("div");
    col.className = "column";
    const h = document.createElement("div");
    h.className = "col-head";
    if (head) h.appendChild(head);
    const nodes = document.createElement("div");
    nodes.className = "nodes";
    col.append(h, nodes);
    $("columns").appendChild(col);
    return nodes;
  }

  function buildNetwork() {
    const c = state.config, sizes = c.layer_sizes, G = c.grid, L = sizes.length - 1;
    const focused = document.activeElement && $("columns").contains(document.activeElement)
      ? document.activeElement.getAttribute("aria-label") : null;
    $("columns").innerHTML = "";
    state.nodes = [[]];
    // The features: every one is shown; the enabled ones are the network's inputs.
    const inputs = column(null);
    for (const f of c.features) {
      const node = document.createElement("div");
      node.className = "node feature" + (f.enabled ? "" : " off");
      const label = document.createElement("span");
      label.className = "flabel";
      label.textContent = f.label;
      const canvas = makeCanvas(G);
      paintBytes(canvas, decode(f.heat), G);
      node.append(label, canvas);
      node.tabIndex = 0;
      node.setAttribute("role", "button");
      node.setAttribute("aria-pressed", String(f.enabled));
      node.setAttribute("aria-label", `Feature ${f.label}`);
      node.onclick = () => toggleFeature(f.name);
      onActivate(node, () => toggleFeature(f.name));
      hover(node, () => f.enabled ? `${f.label}: input ${state.nodes[0].findIndex((n) => n.el === node) + 1} of the network (click to remove)`
        : `${f.label}: not fed to the network (click to add)`);
      inputs.appendChild(node);
      if (f.enabled) state.nodes[0].push({ el: node, canvas });
    }
    for (let l = 1; l <= L; l++) {
      const last = l === L;
      let head = null;
      if (!last) {
        head = document.createElement("div");
        head.style.display = "contents";
        const pm = document.createElement("div");
        pm.className = "pm";
        const plus = document.createElement("button"), minus = document.createElement("button");
        plus.textContent = "+"; minus.textContent = "−";
        plus.title = `Add a neuron to hidden layer ${l}`;
        minus.title = `Remove a neuron from hidden layer ${l}`;
        plus.setAttribute("aria-label", plus.title);
        minus.setAttribute("aria-label", minus.title);
        plus.disabled = sizes[l] >= 8; minus.disabled = sizes[l] <= 1;
        plus.onclick = () => changeNeurons(l - 1, +1);
        minus.onclick = () => changeNeurons(l - 1, -1);
        pm.append(plus, minus);
        const label = document.createElement("span");
        label.innerHTML = `${sizes[l]}<span class="word"> neuron${sizes[l] === 1 ? "" : "s"}</span>`;
        head.append(pm, label);
      } else {
        head = document.createElement("span");
        head.textContent = c.activations[L - 1];
      }
      const nodes = column(head);
      state.nodes.push([]);
      for (let j = 0; j < sizes[l]; j++) {
        const node = document.createElement("div");
        node.className = "node" + (last ? " output-node" : "");
        const canvas = makeCanvas(G);
        const bias = document.createElement("div");
        bias.className = "bias";
        node.append(canvas, bias);
        if (last) {
          const label = document.createElement("span");
          label.className = "olabel";
          label.textContent = c.kind === "multiclass" ? c.classes[j] : "ŷ";
          node.appendChild(label);
        }
        const info = { el: node, canvas, bias, layer: l, unit: j };
        node.tabIndex = 0;
        node.setAttribute("role", "img");
        node.setAttribute("aria-label", last ? (c.kind === "multiclass" ? `Output ${c.classes[j]}` : "Output ŷ")
          : `Hidden layer ${l}, neuron ${j + 1}`);
        hover(node, () => {
          const b = state.frame ? state.frame.biases[l - 1][j] : null;
          const name = last ? (c.kind === "multiclass" ? `output ${c.classes[j]}` : "output ŷ") : `layer ${l}, neuron ${j + 1}`;
          return `${name} (${c.activations[l - 1]}): b${sub(l)}[${j + 1}] = ${b === null ? "–" : b.toFixed(4)}`;
        }, () => { state.preview = info; scheduleRender(); }, () => { state.preview = null; scheduleRender(); });
        nodes.appendChild(node);
        state.nodes[l].push(info);
      }
    }
    if (focused) {
      const again = [...$("columns").querySelectorAll("[aria-label]")]
        .find((el) => el.getAttribute("aria-label") === focused && !el.disabled);
      if (again) again.focus();
    }
    requestAnimationFrame(drawLinks);
  }

  // Enter or Space on an element that acts as a button but is not one.
  function onActivate(el, action) {
    el.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      event.stopPropagation();
      action();
    });
  }

  function hover(el, text, enter = null, leave = null) {
    el.addEventListener("mouseenter", (event) => {
      const tip = $("tooltip");
      tip.textContent = text();
      tip.hidden = false;
      moveTip(event);
      if (enter) enter();
    });
    el.addEventListener("mousemove", moveTip);
    el.addEventListener("mouseleave", () => { $("tooltip").hidden = true; if (leave) leave(); });
    // the same for the keyboard: the tooltip beside what Tab reached
    el.addEventListener("focus", () => {
      const tip = $("tooltip"), r = el.getBoundingClientRect();
      tip.textContent = text();
      tip.hidden = false;
      tip.style.left = `${r.right + 8}px`;
      tip.style.top = `${r.top}px`;
      if (enter) enter();
    });
    el.addEventListener("blur", () => { $("tooltip").hidden = true; if (leave) leave(); });
  }
  function moveTip(event) {
    const tip = $("tooltip");
    tip.style.left = `${event.clientX + 12}px`;
    tip.style.top = `${event.clientY + 14}px`;
  }

  function drawLinks() {
    const svg = $("links"), net = $("net").getBoundingClientRect();
    svg.innerHTML = "";
    state.links = [];
    const NS = "http://www.w3.org/2000/svg";
    for (let l = 1; l < state.nodes.length; l++) {
      for (const [i, a] of state.nodes[l - 1].entries()) {
        const ra = a.canvas.getBoundingClientRect();
        for (const [j, b] of state.nodes[l].entries()) {
          const rb = b.canvas.getBoundingClientRect();
          const x1 = ra.right - net.left, y1 = ra.top + ra.height / 2 - net.top;
          const x2 = rb.left - net.left, y2 = rb.top + rb.height / 2 - net.top;
          const mx = (x1 + x2) / 2;
          const d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
          const path = document.createElementNS(NS, "path");
          path.setAttribute("d", d);
          path.setAttribute("class", "link");
          const hit = document.createElementNS(NS, "path");
          hit.setAttribute("d", d);
          hit.setAttribute("class", "hit");
          svg.append(path, hit);
          const link = { l, i, j, path };
          hover(hit, () => {
            const w = state.frame ? state.frame.weights[l - 1][i][j] : null;
            const from = l === 1 ? featureLabel(i) : `neuron ${i + 1} of layer ${l - 1}`;
            const to = l === state.nodes.length - 1 ? "the output" + (state.config.kind === "multiclass" ? ` ${state.config.classes[j]}` : "")
              : `neuron ${j + 1} of layer ${l}`;
            return `W${sub(l)}[${i + 1}, ${j + 1}] = ${w === null ? "–" : w.toFixed(4)}   (${from} → ${to})`;
          });
          state.links.push(link);
        }
      }
    }
    if (state.frame) paintWeights(state.frame);
    applyHighlight(state.pinned);
  }
  function featureLabel(i) {
    return state.config.features.filter((f) => f.enabled)[i].label;
  }
  new ResizeObserver(() => requestAnimationFrame(drawLinks)).observe($("net"));

  function paintWeights(frame) {
    for (const link of state.links) {
      const W = frame.weights[link.l - 1];
      if (!W || !W[link.i] || W[link.i][link.j] === undefined) continue;
      const w = W[link.i][link.j];
      link.path.style.stroke = rgb(w < 0 ? NEG : POS);
      link.path.style.strokeWidth = (0.6 + Math.min(Math.abs(w), 5) * 1.4).toFixed(2);
      link.path.style.opacity = (0.35 + 0.65 * Math.min(1, Math.abs(w))).toFixed(2);
    }
    for (let l = 1; l < state.nodes.length; l++) {
      for (const node of state.nodes[l]) {
        const b = frame.biases[l - 1] ? frame.biases[l - 1][node.unit] : 0;
        node.bias.style.background = lutColor((Math.max(-1, Math.min(1, b)) + 1) * 127.5);
      }
    }
  }

  // ------------------------------------------------------------------ pictures
  function decode(b64) {
    const text = atob(b64), bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  function paintBytes(canvas, bytes, G) {
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(G, G), px = image.data;
    for (let i = 0; i < G * G; i++) {
      const v = bytes[i] * 3;
      px[i * 4] = LUT[v]; px[i * 4 + 1] = LUT[v + 1]; px[i * 4 + 2] = LUT[v + 2]; px[i * 4 + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }
  function paintClasses(canvas, bytes, G, k) {
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(G, G), px = image.data;
    for (let i = 0; i < G * G; i++) {
      let r = 0, g = 0, b = 0, top = 0;
      for (let c = 0; c < k; c++) {
        const p = bytes[i * k + c] / 255, color = CLASS_COLORS[c % CLASS_COLORS.length];
        r += p * color[0]; g += p * color[1]; b += p * color[2];
        if (p > top) top = p;
      }
      const sure = Math.max(0, (top - 1 / k) / (1 - 1 / k)), t = 0.25 + 0.75 * sure;
      px[i * 4] = MID[0] + (r - MID[0]) * t;
      px[i * 4 + 1] = MID[1] + (g - MID[1]) * t;
      px[i * 4 + 2] = MID[2] + (b - MID[2]) * t;
      px[i * 4 + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }

  const small = document.createElement("canvas");
  function drawHeatmap() {
    const c = state.config, f = state.frame, canvas = $("heatmap");
    if (!c) return;
    const dpr = window.devicePixelRatio || 1, size = canvas.clientWidth || 368;
    if (canvas.width !== Math.round(size * dpr)) { canvas.width = canvas.height = Math.round(size * dpr); }
    const ctx = canvas.getContext("2d"), W = canvas.width;
    if (f && shapesMatch(f)) {
      if (state.preview) {
        small.width = small.height = c.grid;
        paintBytes(small, decode(f.neurons[state.preview.layer - 1][state.preview.unit]), c.grid);
      } else {
        small.width = small.height = c.output_grid;
        if (c.kind === "multiclass") paintClasses(small, decode(f.output), c.output_grid, c.classes.length);
        else paintBytes(small, decode(f.output), c.output_grid);
      }
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(small, 0, 0, W, W);
    } else {
      ctx.fillStyle = rgb(MID);
      ctx.fillRect(0, 0, W, W);
    }
    const [x0, x1, y0, y1] = c.extent;
    const X = (x) => (x - x0) / (x1 - x0) * W, Y = (y) => (y1 - y) / (y1 - y0) * W;
    const r = 3.2 * dpr;
    const color = (t) => c.kind === "regression" ? lutColor(((t - c.target_center) / c.target_scale + 1) * 127.5)
      : c.kind === "binary" ? rgb(t === 0 ? NEG : POS) : rgb(CLASS_COLORS[t % CLASS_COLORS.length]);
    const draw = (set, stroke) => {
      ctx.lineWidth = dpr;
      ctx.strokeStyle = stroke;
      set.points.forEach((p, i) => {
        ctx.beginPath();
        ctx.arc(X(p[0]), Y(p[1]), r, 0, 2 * Math.PI);
        ctx.fillStyle = color(set.target[i]);
        ctx.fill();
        ctx.stroke();
      });
    };
    if (c.curve && c.curve.length && !state.preview) {
      // the curve the classes are drawn from: x₂ = f(x₁), broken where f is not a number
      ctx.save();
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = "#222";
      ctx.setLineDash([6 * dpr, 4 * dpr]);
      ctx.beginPath();
      let pen = false;
      for (const p of c.curve) {
        if (!p) { pen = false; continue; }
        const y = Math.max(-W, Math.min(2 * W, Y(p[1])));
        if (pen) ctx.lineTo(X(p[0]), y); else { ctx.moveTo(X(p[0]), y); pen = true; }
      }
      ctx.stroke();
      ctx.restore();
    }
    if (c.boundary && c.boundary.length && !state.preview) {
      // a surface's zero level, f(x₁, x₂) = 0, as the segments the server found
      ctx.save();
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = "#222";
      ctx.setLineDash([6 * dpr, 4 * dpr]);
      ctx.beginPath();
      for (const [ax, ay, bx, by] of c.boundary) { ctx.moveTo(X(ax), Y(ay)); ctx.lineTo(X(bx), Y(by)); }
      ctx.stroke();
      ctx.restore();
    }
    draw(c.train, "#fff");
    if (state.showTest) draw(c.test, "#000");
    const chosen = f && f.sample !== null && f.sample !== undefined ? f.sample : null;
    if (chosen !== null && c.train.points[chosen]) {
      const p = c.train.points[chosen];
      ctx.beginPath();
      ctx.lineWidth = 2.5 * dpr;
      ctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--hl");
      ctx.arc(X(p[0]), Y(p[1]), 8 * dpr, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  function shapesMatch(f) {
    const sizes = state.config.layer_sizes;
    if (f.neurons.length !== sizes.length - 1) return false;
    return f.neurons.every((layer, l) => layer.length === sizes[l + 1]) &&
      f.weights.every((W, l) => W.length === sizes[l]);
  }

  function drawChart() {
    const canvas = $("chart"), dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 368, h = canvas.clientHeight || 64;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#e3e5e7";
    ctx.lineWidth = dpr;
    ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
    const points = state.chart;
    if (points.length < 2) return;
    const e0 = points[0].epoch, e1 = points[points.length - 1].epoch;
    let top = 0;
    for (const p of points) top = Math.max(top, p.train ?? 0, p.test ?? 0);
    top = top || 1;
    const line = (key, color) => {
      ctx.beginPath();
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5 * dpr;
      let started = false;
      for (const p of points) {
        if (p[key] === null || p[key] === undefined) continue;
        const x = (p.epoch - e0) / Math.max(1, e1 - e0) * (W - 4) + 2;
        const y = H - 3 - p[key] / top * (H - 8);
        if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
      }
      ctx.stroke();
    };
    line("test", "#c9730c");
    line("train", "#333");
  }

  // The histogram of every weight (not the biases, which neither penalty touches): L1
  // piles weights up at zero, L2 shrinks them all toward it. Its text says the share of
  // weights within NEAR_ZERO of zero, for everyone and for a screen reader.
  const NEAR_ZERO = 0.01, HIST_BINS = 41;
  function weightStats(f) {
    const all = f.weights.flat(2);
    let near = 0, zero = 0, top = 0;
    for (const w of all) {
      const a = Math.abs(w);
      if (a <= NEAR_ZERO) near++;
      if (w === 0) zero++;
      if (a > top) top = a;
    }
    return { all, near, zero, top };
  }
  function describeWeights(stats) {
    const n = stats.all.length;
    if (!n) return "Weights: none.";
    const share = (100 * stats.near / n).toFixed(1);
    return `Weights (${n}, from −${number(stats.top)} to ${number(stats.top)}): ${share} % within ` +
      `${NEAR_ZERO} of zero` + (stats.zero ? `, ${stats.zero} exactly 0` : "") + ".";
  }
  function drawWeights(f) {
    const canvas = $("weights-hist"), dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 168, h = canvas.clientHeight || 40;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const stats = weightStats(f);
    const text = describeWeights(stats);
    if ($("weights-text").textContent !== text) $("weights-text").textContent = text;
    if (!stats.all.length) return;
    // symmetric bins over [−m, m], the middle one centred on 0
    const m = Math.max(stats.top, 1e-6), width = 2 * m / HIST_BINS;
    const counts = new Array(HIST_BINS).fill(0);
    for (const v of stats.all) {
      counts[Math.min(HIST_BINS - 1, Math.max(0, Math.floor((v + m) / width)))]++;
    }
    const most = Math.max(...counts), bw = (W - 2) / HIST_BINS;
    const mid = (HIST_BINS - 1) / 2, css = getComputedStyle(document.documentElement);
    const neg = css.getPropertyValue("--neg"), pos = css.getPropertyValue("--pos");
    counts.forEach((c, i) => {
      const bh = Math.sqrt(c / most) * (H - 4);  // √count: a few weights still show beside a pile
      ctx.fillStyle = i === mid ? "#333" : i < mid ? neg : pos;
      ctx.fillRect(1 + i * bw, H - 1 - bh, Math.max(1, bw - dpr), bh);
    });
    ctx.strokeStyle = "#e3e5e7";
    ctx.lineWidth = dpr;
    ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
  }

  // ------------------------------------------------------------------ frames
  function queueFrame(frame) {
    state.stats.received++;
    state.pending = frame;
    scheduleRender();
  }
  function scheduleRender() {
    if (state.raf) return;
    state.raf = true;
    requestAnimationFrame(render);
  }
  function render() {
    state.raf = false;
    if (state.pending) {
      state.frame = state.pending;
      state.pending = null;
    }
    const f = state.frame, c = state.config;
    if (!f || !c) return;
    state.stats.rendered++;
    $("epoch").textContent = f.epoch.toLocaleString("en-US");
    const fmt = (v) => (v === null || v === undefined ? "–" : v >= 1e-3 ? v.toFixed(4) : v.toExponential(2));
    $("train-loss").textContent = fmt(f.train_loss);
    $("test-loss").textContent = fmt(f.test_loss);
    const last = state.chart[state.chart.length - 1];
    if (last && f.epoch < last.epoch) state.chart = [];
    if (!last || f.epoch !== last.epoch || state.chart.length === 0) {
      state.chart.push({ epoch: f.epoch, train: f.train_loss, test: f.test_loss });
      if (state.chart.length > 4000) state.chart = state.chart.filter((_, i) => i % 2 === 0);
    }
    drawChart();
    if (shapesMatch(f)) {
      const G = c.grid;
      f.neurons.forEach((layer, l) => layer.forEach((b64, j) => {
        const node = state.nodes[l + 1] && state.nodes[l + 1][j];
        if (node) paintBytes(node.canvas, decode(b64), G);
      }));
      paintWeights(f);
    }
    drawHeatmap();
    drawWeights(f);
    const play = $("play");
    if (play.classList.contains("playing") !== f.playing || !play.getAttribute("aria-label")) {
      play.classList.toggle("playing", f.playing);
      play.innerHTML = f.playing ? "&#x275A;&#x275A;" : "&#x25B6;";
      play.setAttribute("aria-label", f.playing ? "Pause" : "Play");
      play.title = f.playing ? "Pause (Space)" : "Play: train continuously (Space)";
    }
    play.disabled = !!f.error;
    if (f.error && f.error !== state.lastError) showError(`${f.error} Press reset to start again.`, true);
    state.lastError = f.error;
    updateStats(f);
    tell(f);
  }

  // ------------------------------------------------------------------ in words
  // What the pictures show, for a screen reader: the heatmap's and the chart's text, and
  // a polite announcement of the epoch, the losses and the accuracy — when training
  // pauses, after a step or a reset, and while it plays at most every TELL_EVERY_MS.
  const TELL_EVERY_MS = 5000;
  const percent = (v) => `${(100 * v).toFixed(1)} %`;
  function inWords(f) {
    const fmt = (v) => (v === null || v === undefined ? "not a number" : v >= 1e-3 ? v.toFixed(4) : v.toExponential(2));
    const parts = [`Epoch ${f.epoch.toLocaleString("en-US")}${f.playing ? ", training" : ", paused"}.`];
    parts.push(`Training loss ${fmt(f.train_loss)}` + (f.test_loss === null && !state.config.test.points.length ? "." : `, test loss ${fmt(f.test_loss)}.`));
    if (f.train_accuracy !== null && f.train_accuracy !== undefined) {
      parts.push(`Training accuracy ${percent(f.train_accuracy)}` +
        (f.test_accuracy === null || f.test_accuracy === undefined ? "." : `, test accuracy ${percent(f.test_accuracy)}.`));
    }
    return parts.join(" ");
  }
  function describeHeatmap(f) {
    const c = state.config;
    const [x0, x1, y0, y1] = c.extent.map((v) => String(+v.toFixed(1)));
    const where = `over x₁ from ${x0} to ${x1} and x₂ from ${y0} to ${y1}`;
    let colours;
    const made = FROM_FORMULA.includes(c.settings.dataset) ? ` The data: ${c.settings.dataset === "curve"
      ? "the points on either side of" : "the surface"} f = ${c.settings.formula}${(c.curve && c.curve.length) || (c.boundary && c.boundary.length) ? ", drawn as a dashed line" : ""}.` : "";
    if (c.kind === "regression") {
      const lo = c.target_center - c.target_scale, hi = c.target_center + c.target_scale;
      colours = `${c.target_name} from ${lo.toPrecision(2)} in ${CLASS_NAMES[0]} to ${hi.toPrecision(2)} in ${CLASS_NAMES[1]}`;
    } else {
      colours = "the likeliest class: " + c.classes.map((name, k) => `${name} in ${CLASS_NAMES[k % CLASS_NAMES.length]}`).join(", ");
    }
    const accuracy = f.train_accuracy === null || f.train_accuracy === undefined ? ""
      : ` The network classifies ${percent(f.train_accuracy)} of them right.`;
    return `The network's output ${where}, coloured by ${colours}; with the ${c.train.points.length} training points as dots.${accuracy}${made}`;
  }
  function describeChart() {
    const points = state.chart, fmt = (v) => (v === null || v === undefined ? "–" : (+v).toPrecision(3));
    if (!points.length) return "Loss chart: no epochs trained yet.";
    const a = points[0], b = points[points.length - 1];
    let text = `Loss chart from epoch ${a.epoch} to ${b.epoch}: training loss from ${fmt(a.train)} to ${fmt(b.train)}`;
    if (b.test !== null && b.test !== undefined) text += `, test loss from ${fmt(a.test)} to ${fmt(b.test)}`;
    return text + ".";
  }
  function tell(f) {
    const told = state.told, now = performance.now();
    const changed = f.playing !== told.playing;
    if (!changed && f.playing && now - told.at < TELL_EVERY_MS) return;
    const text = inWords(f);
    told.playing = f.playing;
    // a note (what an upload did) goes with the announcements of its configuration's first
    // epoch told, and no later one; a frame of the configuration before is told without it
    let note = state.note && f.config_version === state.noteVersion ? state.note : "";
    if (note && told.noteEpoch === null) told.noteEpoch = f.epoch;
    else if (note && f.epoch !== told.noteEpoch) note = state.note = "";
    const full = note ? `${note} ${text}` : text;
    if (text === told.text && (!note || $("announce").textContent === full)) return;
    told.text = text;
    told.at = now;
    $("announce").textContent = full;
    $("heatmap").setAttribute("aria-label", describeHeatmap(f));
    $("chart").setAttribute("aria-label", describeChart());
  }

  function updateStats(f) {
    const s = state.stats, now = performance.now();
    if (now - s.t0 >= 1000) {
      const dt = (now - s.t0) / 1000;
      s.fps = (s.rendered - s.r0) / dt;
      s.eps = Math.max(0, f.epoch - s.e0) / dt;
      s.t0 = now; s.r0 = s.rendered; s.e0 = f.epoch;
      $("stats").textContent = f.playing ? `${s.fps.toFixed(1)} frames/s · ${Math.round(s.eps)} epochs/s` : "";
    }
    if (!f.playing) $("stats").textContent = "";
  }

  // ------------------------------------------------------------------ the math
  function tex(latex) {
    if (!window.katex) return `<code>${escapeHtml(latex)}</code>`;
    // htmlAndMathml: the picture, and MathML that a screen reader reads out
    return window.katex.renderToString(latex, { throwOnError: false, output: "htmlAndMathml" });
  }
  function number(v) { return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(+v.toFixed(4)); }

  function openMath(open = true) {
    $("main").classList.toggle("math-open", open);
    $("math-toggle").setAttribute("aria-expanded", String(open));
    if (!open) { state.pinned = null; applyHighlight(null); }
  }

  function renderMath(m) {
    state.math = m;
    state.pinned = null;
    const c = state.config;
    const cap = [];
    const target = typeof m.target === "number" ? number(m.target) : escapeHtml(m.target);
    cap.push(`<p><b>Training sample ${m.sample + 1}</b> of ${m.n_train}: ` +
      `(x₁, x₂) = (${number(m.point[0])}, ${number(m.point[1])}), target y = ${target}. ` +
      `Inputs x = (${m.inputs.map(escapeHtml).join(", ")}).</p>`);
    cap.push(`<p>One step of gradient descent on this sample alone, from the weights at the start of ` +
      `epoch ${m.epoch + 1}: α = ${m.learning_rate}${m.l2_penalty ? `, λ = ${m.l2_penalty}` : ""}` +
      `${m.l1_penalty ? `, λ₁ = ${m.l1_penalty}` : ""}.` +
      (m.trained ? ` Step then trained epoch ${m.trained} on all ${m.n_train} training samples, in batches of ${m.batch_size}.` : "") + "</p>");
    if (m.optimizer === "adam") {
      cap.push(`<p class="note">Adam scales each step by running averages of the gradients; the update shown is plain gradient descent's, w ← w − α·∂C/∂w.</p>`);
    }
    for (const note of m.notes) cap.push(`<p class="note">note: ${escapeHtml(note)}</p>`);
    cap.push(`<p class="note">Point at an equation to see the neurons and connections it is about; click to keep it.</p>`);
    $("math-caption").innerHTML = cap.join("");
    const body = $("math-body");
    body.innerHTML = "";
    let phase = null;
    for (const step of m.steps) {
      if (step.phase !== phase) {
        phase = step.phase;
        const h = document.createElement("h3");
        h.textContent = step.phase_title;
        body.appendChild(h);
      }
      const el = document.createElement("div");
      el.className = "eq";
      el.dataset.n = step.n;
      el.tabIndex = 0;  // Tab reaches each equation: focus lights its neurons, Enter keeps it
      const given = step.given.map(([k, v]) => `<span class="item">${tex(`${k} = ${v}`)}</span>`).join("");
      const result = `${step.symbol} = ${step.expanded ? step.expanded + " = " : ""}${step.value}`;
      el.innerHTML = `<div class="eq-name">${step.n}. ${escapeHtml(step.name)}</div>` +
        `<div class="eq-tex">${tex(step.equation)}</div>` +
        (given ? `<div class="eq-given">${given}</div>` : "") +
        `<div class="eq-result"><span class="arrow">→</span>${tex(result)}</div>`;
      el.addEventListener("mouseenter", () => applyHighlight(step.highlight));
      el.addEventListener("mouseleave", () => applyHighlight(state.pinned));
      const pin = () => {
        const same = state.pinned === step.highlight;
        for (const other of body.querySelectorAll(".eq.pinned")) other.classList.remove("pinned");
        state.pinned = same ? null : step.highlight;
        if (!same) el.classList.add("pinned");
        applyHighlight(state.pinned);
      };
      el.addEventListener("click", pin);
      el.addEventListener("focus", () => applyHighlight(step.highlight));
      el.addEventListener("blur", () => applyHighlight(state.pinned));
      onActivate(el, pin);
      body.appendChild(el);
    }
    if (m.summary && m.summary.length) {
      const h = document.createElement("h3");
      h.textContent = "Gradient summary";
      body.appendChild(h);
      const rows = m.summary.map((s) => `<tr><td>${s.layer}</td><td>${escapeHtml(s.activation)}</td>` +
        `<td>${s.grad_W_norm.toExponential(2)}</td><td>${s.grad_b_norm.toExponential(2)}</td>` +
        `<td>${escapeHtml(s.flags.join("; ") || "ok")}</td></tr>`).join("");
      const table = document.createElement("table");
      table.className = "summary-table";
      table.innerHTML = `<tr><th>layer</th><th>activation</th><th>‖∂C/∂W‖</th><th>‖∂C/∂b‖</th><th>flags</th></tr>${rows}`;
      body.appendChild(table);
    }
    body.scrollTop = 0;
    openMath(true);
    if (c && state.frame) { state.frame.sample = m.sample; scheduleRender(); }
  }

  function applyHighlight(h) {
    const net = $("net");
    net.classList.toggle("dim", !!h);
    for (const layer of state.nodes) for (const node of layer) node.el.classList.remove("hl");
    for (const link of state.links) link.path.classList.remove("hl");
    if (!h) return;
    for (const l of h.neurons) for (const node of state.nodes[l] || []) node.el.classList.add("hl");
    for (const link of state.links) if (h.weights.includes(link.l)) link.path.classList.add("hl");
  }

  // ------------------------------------------------------------------ controls
  // Changes go to the server one after another, in the order they were made: arrow keys
  // held on a control send several, and the last one made is the one in force.
  let changing = Promise.resolve();
  function change(changes) {
    changing = changing.then(() => send(changes));
    return changing;
  }
  async function send(changes) {
    try {
      applyConfig(await api(at("/settings"), { body: changes }));
    } catch (err) {
      showError(err.message);
      const config = state.config;
      state.config = null;
      applyConfig(config);  // the controls show the settings in force again
    }
  }
  async function command(path) {
    try {
      return await api(at(path));
    } catch (err) {
      showError(err.message);
      return null;
    }
  }

  for (const id of ["learning_rate", "l2", "l1", "batch_size"]) {
    $(id).onchange = () => change({ [id]: Number($(id).value) });
  }
  for (const id of ["activation", "loss", "optimizer", "x1_column", "x2_column", "target_column", "missing"]) {
    $(id).onchange = () => change({ [id]: $(id).value });
  }
  for (const id of ["split", "noise", "points"]) {
    $(id).oninput = showRangeValues;
    $(id).onchange = () => change({ [id]: Number($(id).value) });
  }
  // A data set from a formula: the preset or the typed text, on the curve (or surface)
  // data set already chosen, else on the curve.
  async function useFormula(formula) {
    const dataset = FROM_FORMULA.includes(state.config.settings.dataset) ? state.config.settings.dataset : "curve";
    try {
      applyConfig(await api(at("/settings"), { body: { dataset, formula } }));
    } catch (err) {
      showError(err.message);
      if (err.setting === "formula") {
        $("formula").setAttribute("aria-invalid", "true");
        $("formula").focus();
      }
    }
  }
  $("formula-preset").onchange = () => {
    const presets = state.config.formula_presets || {}, name = $("formula-preset").value;
    if (!presets[name]) { $("formula").focus(); return; }
    $("formula").value = presets[name];
    useFormula(presets[name]);
  };
  $("formula-apply").onclick = () => useFormula($("formula").value);
  $("formula").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); useFormula($("formula").value); }
  });
  function toggleFeature(name) {
    const s = state.config.settings;
    const features = s.features.includes(name) ? s.features.filter((f) => f !== name) : [...s.features, name];
    change({ features });
  }
  function changeNeurons(index, delta) {
    const hidden = [...state.config.settings.hidden];
    hidden[index] = Math.max(1, Math.min(8, hidden[index] + delta));
    change({ hidden });
  }
  $("add-layer").onclick = () => {
    const hidden = [...state.config.settings.hidden];
    if (hidden.length < 6) change({ hidden: [...hidden, hidden.length ? hidden[hidden.length - 1] : 4] });
  };
  $("remove-layer").onclick = () => change({ hidden: state.config.settings.hidden.slice(0, -1) });
  $("play").onclick = () => command(state.frame && state.frame.playing ? "/pause" : "/play");
  $("reset").onclick = async () => { await command("/reset"); state.chart = []; };
  $("regenerate").onclick = () => command("/regenerate");
  $("step").onclick = async () => {
    const m = await command("/step");
    if (m) renderMath(m);
  };
  $("math-toggle").onclick = () => openMath(!$("main").classList.contains("math-open"));
  $("math-close").onclick = () => { openMath(false); $("math-toggle").focus(); };
  // The keyboard: Space plays and pauses wherever it does nothing else (not in a text
  // field, a list or on a button, which Space presses); Escape closes the math.
  const TAKES_SPACE = "input, select, textarea, button, a[href], summary, [contenteditable], [role=button]";
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape" && $("main").classList.contains("math-open")) {
      openMath(false);
      $("math-toggle").focus();
      return;
    }
    if (event.key !== " " || event.repeat) return;
    const target = event.target;
    if (target instanceof Element && target.closest(TAKES_SPACE)) return;
    event.preventDefault();
    if (!$("play").disabled) $("play").click();
  });
  $("colours").onchange = () => {
    usePalette($("colours").value);
    try { localStorage.setItem("nnmath-playground-colours", palette); } catch (err) { /* private mode */ }
    if (!state.config) return;
    writeHash(encodeHash(state.config.settings));
    applyConfig({ ...state.config, version: -1 });
    paintPreviews();
    scheduleRender();
  };
  $("show-test").onchange = () => {
    state.showTest = $("show-test").checked;
    writeHash(encodeHash(state.config.settings));
    drawHeatmap();
  };
  $("share").onclick = async () => {
    const button = $("share");
    try {
      await navigator.clipboard.writeText(location.href);
      button.textContent = "Copied!";
    } catch (err) {
      window.prompt("Copy this link:", location.href);
    }
    setTimeout(() => { button.textContent = "Copy link"; }, 1500);
  };
  $("upload").onchange = async () => {
    const file = $("upload").files[0];
    $("upload").value = "";
    if (!file) return;
    try {
      const config = await api(at(`/upload?name=${encodeURIComponent(file.name)}`), { file, type: file.type || "text/csv" });
      state.notedKey = null;  // a file uploaded again is told again
      applyConfig(config);
      const wanted = state.linkColumns;
      state.linkColumns = null;
      if (wanted && ["x1_column", "x2_column", "target_column"].every((k) => config.upload.columns.includes(wanted[k]))) {
        change(wanted);
      }
    } catch (err) {
      showError(err.message, true);
    }
  };
  $("dl-onnx").addEventListener("click", (event) => {
    if (!state.config || !state.config.onnx) {
      event.preventDefault();
      showError('ONNX export needs the onnx package: pip install "nnmath[onnx]"');
    }
  });
  $("heatmap").addEventListener("click", async (event) => {
    const c = state.config;
    if (!c) return;
    const rect = event.target.getBoundingClientRect();
    const [x0, x1, y0, y1] = c.extent;
    const px = event.clientX - rect.left, py = event.clientY - rect.top;
    let best = -1, bestD = 12 * 12;
    c.train.points.forEach((p, i) => {
      const dx = (p[0] - x0) / (x1 - x0) * rect.width - px, dy = (y1 - p[1]) / (y1 - y0) * rect.height - py;
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    });
    if (best < 0) { showError("Click on a training point to see the math of a training step on it."); return; }
    try {
      renderMath(await api(at("/explain"), { body: { sample: best } }));
    } catch (err) {
      showError(err.message);
    }
  });
  window.addEventListener("resize", () => { drawHeatmap(); drawChart(); });

  // The data sets' little pictures.
  async function loadPreviews() {
    const box = $("datasets");
    for (const name of Object.keys(DATASET_NAMES)) {
      const button = document.createElement("button");
      button.dataset.name = name;
      button.title = `${DATASET_NAMES[name]} (${REGRESSION_SETS.includes(name) ? "regression" : "classification"})` +
        (FROM_FORMULA.includes(name) ? ": from the formula below" : "");
      const canvas = makeCanvas(46);
      const label = document.createElement("span");
      label.textContent = DATASET_NAMES[name];
      button.append(canvas, label);
      button.onclick = () => change({ dataset: name });
      box.appendChild(button);
    }
    if (state.config) applyConfig({ ...state.config, version: -1 });
    try { state.previews = await api("/api/datasets", { method: "GET" }); } catch (err) { return; }
    paintPreviews();
  }
  function paintPreviews() {
    const previews = state.previews;
    if (!previews) return;
    for (const button of $("datasets").querySelectorAll("button")) {
      const p = previews[button.dataset.name], canvas = button.querySelector("canvas");
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, 46, 46);
      p.points.forEach((pt, i) => {
        const t = p.target[i];
        ctx.fillStyle = p.kind === "regression" ? lutColor((t + 1) * 127.5)
          : p.kind === "binary" ? rgb(t === 0 ? NEG : POS) : rgb(CLASS_COLORS[t]);
        ctx.fillRect((pt[0] + 6) / 12 * 46 - 1, (6 - pt[1]) / 12 * 46 - 1, 2.2, 2.2);
      });
    }
  }

  loadPreviews();
  start();
})();
