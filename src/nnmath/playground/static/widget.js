// nnmath playground as a notebook widget (anywidget): the page's body, its style sheet in a
// shadow root, KaTeX, and app.js unchanged inside runPage, whose parameters stand in for the
// browser's fetch, WebSocket, window, document, location, history, localStorage and
// navigator. Requests and the stream go over the widget's comm; Python answers them
// (nnmath/playground/widget.py). The __NAMES__ are filled in by widget.py.
const BODY = __BODY__;
const PAGE_CSS = __CSS__;
const KATEX_CSS = __KATEX_CSS__;
const KATEX_JS = __KATEX_JS__;

function runPage(fetch, WebSocket, window, document, location, history, localStorage, navigator) {
__APP__
}

function loadKatex() {
  if (globalThis.katex) return;
  const style = document.createElement("style");  // its fonts must be the document's
  style.textContent = KATEX_CSS;
  document.head.appendChild(style);
  const script = document.createElement("script");
  script.textContent = KATEX_JS;
  document.head.appendChild(script);
}

function render({ model, el }) {
  loadKatex();
  const host = document.createElement("div");
  host.className = "nnmath-playground";
  host.style.display = "block";
  host.style.height = "820px";
  host.style.overflow = "auto";
  el.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `<style>${KATEX_CSS}</style><style>${PAGE_CSS}</style>${BODY}`;

  // Requests: the page's fetch(path, options), answered by Python over the comm.
  let next = 0;
  const waiting = new Map(), sockets = new Set(), cleanups = [];
  async function widgetFetch(path, options = {}) {
    const id = ++next, buffers = [];
    let body = null;
    if (options.body instanceof Blob) buffers.push(await options.body.arrayBuffer());
    else if (typeof options.body === "string") body = JSON.parse(options.body);
    const answer = new Promise((resolve) => waiting.set(id, resolve));
    const method = options.method || "GET";
    model.send({ kind: "request", id, method, path, body }, undefined, buffers);
    const { msg, buffers: data } = await answer;
    return {
      ok: msg.status < 400, status: msg.status, statusText: msg.status < 400 ? "OK" : "Error",
      json: async () => msg.body, data: data && data[0],
    };
  }
  // The stream: the page's WebSocket, fed by the comm's "stream" messages.
  class WidgetSocket {
    constructor(url) {
      this.readyState = 1;
      this.id = url.split("/api/sessions/")[1].split("/")[0];
      this.onmessage = null;
      this.onclose = null;
      sockets.add(this);
      model.send({ kind: "connect", id: this.id });
    }
    send() {}
    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      sockets.delete(this);
      model.send({ kind: "disconnect", id: this.id });
    }
  }
  const onMessage = (msg, buffers) => {
    if (msg.kind === "answer" && waiting.has(msg.id)) {
      waiting.get(msg.id)({ msg, buffers });
      waiting.delete(msg.id);
    } else if (msg.kind === "stream") {
      for (const ws of sockets) {
        if (ws.id === msg.id && ws.onmessage) ws.onmessage({ data: msg.data });
      }
    }
  };
  model.on("msg:custom", onMessage);
  // Downloads: the links' addresses are asked for over the comm, saved from memory.
  root.addEventListener("click", async (event) => {
    const link = event.target instanceof Element && event.target.closest("a[download]");
    if (!link || link.classList.contains("off")) return;
    if (!link.getAttribute("href").startsWith("/api/")) return;
    event.preventDefault();
    const response = await widgetFetch(link.getAttribute("href"), { method: "GET" });
    if (!response.ok) return;
    const url = URL.createObjectURL(new Blob([response.data]));
    const save = document.createElement("a");
    save.href = url;
    const onnx = link.getAttribute("href").endsWith(".onnx");
    save.download = onnx ? "playground.onnx" : "playground.safetensors";
    save.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, true);

  let hash = "";
  const fakeLocation = {
    get hash() { return hash; }, protocol: "http:", host: "widget", get href() { return hash; },
  };
  const fakeHistory = { replaceState(a, b, h) { hash = h; } };
  const memory = new Map();
  const fakeStorage = {
    getItem: (k) => memory.get(k) ?? null, setItem: (k, v) => memory.set(k, v),
  };
  const fakeWindow = {
    get katex() { return globalThis.katex; },
    get devicePixelRatio() { return globalThis.devicePixelRatio; },
    prompt: (...a) => globalThis.prompt(...a),
    addEventListener(type, fn) {
      if (type !== "resize") return;  // the notebook's address and its pagehide are not ours
      globalThis.addEventListener(type, fn);
      cleanups.push(() => globalThis.removeEventListener(type, fn));
    },
  };
  const fakeDocument = {
    getElementById: (id) => root.getElementById(id),
    querySelectorAll: (s) => root.querySelectorAll(s),
    createElement: (...a) => document.createElement(...a),
    createElementNS: (...a) => document.createElementNS(...a),
    addEventListener: (...a) => root.addEventListener(...a),
    get activeElement() { return root.activeElement; },
    documentElement: host,
  };
  const start = () => runPage(widgetFetch, WidgetSocket, fakeWindow, fakeDocument, fakeLocation,
    fakeHistory, fakeStorage, navigator);
  if (globalThis.katex) start();
  else {
    let tries = 0;
    const wait = setInterval(() => {
      if (globalThis.katex || ++tries > 100) { clearInterval(wait); start(); }
    }, 20);
  }
  return () => {
    for (const ws of [...sockets]) ws.close();
    model.off("msg:custom", onMessage);
    for (const f of cleanups) f();
  };
}
export default { render };
