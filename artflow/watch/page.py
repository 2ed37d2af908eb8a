"""The live page `artflow watch` serves: outputs, per-node status and seconds, the error of a broken
edit above the last good images; updates arrive as server-sent events (no polling). A graph with
frames plays as a looping preview with a frame scrubber (see :mod:`artflow.watch.frames`)."""

PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>artflow watch</title>
<style>
body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:0;background:#f6f6f4;color:#1d1d1f}
header{display:flex;gap:14px;align-items:baseline;padding:12px 18px;background:#fff;
 border-bottom:1px solid #ddd}
h1{font-size:17px;margin:0}
#phase{font-size:13px;padding:2px 9px;border-radius:10px;background:#ddd}
#phase.done{background:#d5f0dc;color:#17622f}#phase.running{background:#fdf0c4;color:#7a5a00}
#phase.error{background:#f9d6d3;color:#8c1d13}
#meta{font-size:13px;color:#666}
#error{margin:12px 18px;padding:10px 14px;background:#fff0ee;border:1px solid #e3a29b;color:#8c1d13;
 font:13px/1.4 "DejaVu Sans Mono",monospace;white-space:pre-wrap}
main{display:flex;gap:18px;padding:14px 18px;align-items:flex-start}
#outputs{display:flex;flex-wrap:wrap;gap:14px;flex:1}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
figure img,figure video{display:block;max-width:480px;max-height:480px}
figcaption{font-size:12px;color:#555;margin-top:5px}
table{border-collapse:collapse;font-size:13px;background:#fff;border:1px solid #ddd}
td,th{padding:4px 9px;border-bottom:1px solid #eee;text-align:left}
td.s{text-align:right;font-variant-numeric:tabular-nums}
tr.ran td.st{color:#17622f}tr.cached td.st{color:#2a5d9a}tr.failed td.st{color:#b3261e;font-weight:bold}
tr.preview{cursor:pointer}tr.preview:hover{background:#f0f4fa}
#preview img{max-width:360px;margin-top:10px;border:1px solid #ddd}
figure.player img{width:256px;height:auto;image-rendering:auto}
.controls{display:flex;gap:8px;align-items:center;font-size:12px;margin-top:6px}
.controls input{flex:1}.controls button{font-size:12px;width:52px}
</style></head>
<body data-version="0" data-phase="starting">
<header><h1 id="title">artflow watch</h1><span id="phase">starting</span><span id="meta"></span></header>
<div id="error" hidden></div>
<main><section id="outputs"></section>
<aside><table><thead><tr><th>node</th><th>type</th><th>status</th><th>seconds</th></tr></thead>
<tbody id="nodes"></tbody></table><div id="preview"></div></aside></main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let shown = 0;
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function render(s) {
  document.title = "artflow watch: " + (s.file || "");
  $("title").textContent = s.file || "artflow watch";
  $("phase").textContent = s.phase;
  $("phase").className = s.phase;
  const took = s.seconds != null ? s.seconds.toFixed(2) + " s" : "";
  $("meta").textContent = [took, s.ran != null ? s.ran + " node(s) ran" : "",
                           s.finished ? "at " + s.finished : ""].filter(Boolean).join(" · ");
  $("error").hidden = !s.error;
  $("error").textContent = s.error || "";
  const box = $("outputs");
  const keep = new Set();
  const waits = [];
  for (const o of s.outputs) {
    const key = o.node + "/" + o.name;
    keep.add(key);
    if (o.kind === "frames") { player(box, key, o); continue; }
    let fig = box.querySelector(`figure[data-key="${CSS.escape(key)}"]`);
    if (!fig) {
      fig = el("figure", {"data-key": key});
      fig.append(el(o.kind === "video" ? "video" : o.kind === "file" ? "a" : "img", {}),
                 el("figcaption", {}, ""));
      if (o.kind === "video") Object.assign(fig.firstChild, {controls: true, loop: true, muted: true});
      box.append(fig);
    }
    fig.querySelector("figcaption").textContent = o.node + " · " + o.name;
    const media = fig.firstChild;
    const url = o.kind === "node" ? o.url + "?v=" + s.version : o.url;
    if (o.kind === "file") { media.textContent = o.name; if (url) media.href = url; continue; }
    if (url && media.getAttribute("src") !== url) {
      if (media.tagName === "IMG") {
        waits.push(new Promise((ok) => { media.onload = ok; media.onerror = ok; }));
      }
      media.setAttribute("src", url);
      if (media.tagName === "VIDEO") media.play().catch(() => {});
    }
  }
  for (const fig of [...box.children]) {
    if (!keep.has(fig.dataset.key)) { if (fig.p) clearInterval(fig.p.timer); fig.remove(); }
  }
  const body = $("nodes");
  body.replaceChildren();
  for (const n of s.nodes) {
    const tr = el("tr", {"class": n.status + (n.preview ? " preview" : ""), "data-node": n.id});
    const runs = n.runs !== undefined && n.status === "ran" ? " ×" + n.runs : "";
    tr.append(el("td", {}, n.id), el("td", {}, n.type), el("td", {"class": "st"}, n.status + runs),
              el("td", {"class": "s"}, n.status === "ran" ? n.seconds.toFixed(3) : ""));
    if (n.error) tr.title = n.error;
    if (n.preview) tr.onclick = () => {
      const src = `/node/${n.run}/${n.id}.png?v=${s.version}`;
      $("preview").replaceChildren(el("div", {}, n.id), el("img", {src}));
    };
    body.append(tr);
  }
  Promise.all(waits).then(() => {
    if (s.version < shown) return;
    shown = s.version;
    document.body.dataset.version = s.version;
    document.body.dataset.phase = s.phase;
    if (s.phase !== "running") fetch("/seen?v=" + s.version).catch(() => {});
  });
}
// a run over frames: the frames loop at the run's fps; the scrubber pauses on the frame it picks
function player(box, key, o) {
  let fig = box.querySelector(`figure[data-key="${CSS.escape(key)}"]`);
  if (!fig) {
    fig = el("figure", {"data-key": key, "class": "player"});
    const img = el("img", {"alt": "frame"});
    const play = el("button", {"type": "button"}, "pause");
    const scrub = el("input", {"type": "range", "min": "0", "value": "0", "step": "1"});
    const label = el("span", {}, "");
    const bar = el("div", {"class": "controls"});
    bar.append(play, scrub, label);
    fig.append(img, bar, el("figcaption", {}, ""));
    box.append(fig);
    fig.p = {img, play, scrub, label, frame: 0, playing: true, timer: null, urls: [], cache: []};
    img.onload = () => { img.dataset.frame = img.dataset.want; };
    play.onclick = () => {
      fig.p.playing = !fig.p.playing; play.textContent = fig.p.playing ? "pause" : "play";
    };
    scrub.oninput = () => {
      fig.p.playing = false; play.textContent = "play"; show(fig, Number(scrub.value));
    };
  }
  const p = fig.p;
  p.urls = o.urls;
  p.cache = o.urls.map((u) => { const i = new Image(); i.src = u; return i; });  // smooth playback
  p.scrub.max = String(o.urls.length - 1);
  fig.querySelector("figcaption").textContent = o.node + " · " + o.name;
  clearInterval(p.timer);
  p.timer = setInterval(() => { if (p.playing) show(fig, (p.frame + 1) % p.urls.length); },
                        1000 / Math.max(1, o.fps));
  show(fig, Math.min(p.frame, o.urls.length - 1));
}
function show(fig, frame) {
  const p = fig.p;
  p.frame = frame;
  p.scrub.value = String(frame);
  p.label.textContent = "frame " + frame + " / " + (p.urls.length - 1);
  p.img.dataset.want = String(frame);
  if (p.img.getAttribute("src") !== p.urls[frame]) p.img.setAttribute("src", p.urls[frame]);
  else p.img.dataset.frame = String(frame);
}
const events = new EventSource("/events");
events.addEventListener("state", (e) => render(JSON.parse(e.data)));
events.addEventListener("full", (e) => {  // the server's cap on open pages: say so, stop trying
  events.close();
  $("phase").textContent = "not connected"; $("phase").className = "error";
  $("error").hidden = false; $("error").textContent = JSON.parse(e.data);
});
events.onerror = () => {
  if (events.readyState === EventSource.CLOSED) return;
  $("phase").textContent = "disconnected"; $("phase").className = "error";
};
</script></body></html>
"""
