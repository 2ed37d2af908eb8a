"""index.html: a static page that works from file:// — grid, captions, filters, full-size view.

Everything a spec or an input file name can put on the page is HTML-escaped; the data the
filters use sits in an inline JSON script whose '<', '>' and '&' are escaped, so no value can
close the script or open a tag.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote

INDEX = "index.html"

CSS = """
:root{color-scheme:dark;--bg:#15161a;--card:#202228;--fg:#e9e7e2;--dim:#9a9aa3;--acc:#f0a04b}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);
 color:var(--fg)}
header{padding:18px 22px 8px}
h1{margin:0 0 4px;font-size:22px}
.desc,.count{color:var(--dim);margin:2px 0}
.filters{display:flex;flex-wrap:wrap;gap:10px;padding:8px 22px 14px;align-items:center}
.filters label{display:flex;gap:6px;align-items:center;color:var(--dim)}
.filters select{background:var(--card);color:var(--fg);border:1px solid #3a3c44;border-radius:6px;
 padding:3px 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,210px),1fr));gap:14px;
 padding:0 22px 28px}
.card{margin:0;background:var(--card);border-radius:10px;overflow:hidden;display:flex;flex-direction:column}
.card[hidden]{display:none}
.card a.full{display:block;background:#0c0c0e}
.card img{display:block;width:100%;height:auto;aspect-ratio:1/1;object-fit:contain}
figcaption{padding:8px 10px 10px;display:flex;flex-direction:column;gap:4px}
.name{font-weight:600;word-break:break-all}
.caption{color:var(--fg)}
.params{display:flex;flex-wrap:wrap;gap:4px;margin:0;padding:0;list-style:none}
.params li{background:#2d3038;border-radius:4px;padding:1px 6px;font-size:12px;color:var(--dim);
 word-break:break-all}
.params b{color:var(--fg);font-weight:500}
.labels,.boxes{font-size:12px;color:var(--acc);margin:0}
.failed{outline:2px solid #c0392b}
.error{color:#ff8a80;font-size:12px;padding:10px;word-break:break-word}
#lightbox{position:fixed;inset:0;background:rgba(0,0,0,.88);display:none;align-items:center;
 justify-content:center;flex-direction:column;gap:10px;padding:20px;cursor:zoom-out;z-index:9}
#lightbox.open{display:flex}
#lightbox img{max-width:96vw;max-height:86vh;object-fit:contain;image-rendering:auto}
#lightbox p{margin:0;color:var(--fg)}
"""

JS = """
(function(){
  var data = JSON.parse(document.getElementById('gallery-data').textContent);
  var cards = Array.prototype.slice.call(document.querySelectorAll('.card'));
  var selects = Array.prototype.slice.call(document.querySelectorAll('.filters select'));
  var count = document.getElementById('count');
  function apply(){
    var shown = 0;
    cards.forEach(function(card){
      var item = data.items[+card.getAttribute('data-item')];
      var ok = selects.every(function(sel){
        return sel.value === '' || item.params[sel.getAttribute('data-axis')] === sel.value;
      });
      card.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = 'showing ' + shown + ' of ' + cards.length + ' images';
  }
  // filters can be linked: index.html#look.colormap=ice&seed=3
  var wanted = new URLSearchParams(location.hash.replace(/^#/, ''));
  selects.forEach(function(sel){
    var v = wanted.get(sel.getAttribute('data-axis'));
    if (v !== null && Array.prototype.some.call(sel.options, function(o){ return o.value === v; })) {
      sel.value = v;
    }
    sel.addEventListener('change', function(){
      var q = new URLSearchParams();
      selects.forEach(function(s){ if (s.value !== '') q.set(s.getAttribute('data-axis'), s.value); });
      history.replaceState(null, '', q.toString() ? '#' + q.toString() : location.pathname);
      apply();
    });
  });
  var box = document.getElementById('lightbox');
  var big = box.querySelector('img');
  var text = box.querySelector('p');
  document.querySelectorAll('a.full').forEach(function(a){
    a.addEventListener('click', function(ev){
      ev.preventDefault();
      big.src = a.getAttribute('href');
      var cap = a.parentNode.querySelector('figcaption');
      text.textContent = cap ? cap.querySelector('.name').textContent : '';
      box.classList.add('open');
    });
  });
  function close(){ box.classList.remove('open'); big.removeAttribute('src'); }
  box.addEventListener('click', close);
  document.addEventListener('keydown', function(ev){ if (ev.key === 'Escape') close(); });
  document.body.setAttribute('data-ready', '1');
  apply();
})();
"""


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' survives unescaped."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _url(rel: str) -> str:
    return escape(quote(rel, safe="/"), quote=True)


def _short_key(key: str) -> str:
    return key.rsplit(".", 1)[-1] if key != "seed" else key


def _by_node(values: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Labels or boxes grouped by the node that gave them, in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for value in values:
        groups.setdefault(str(value.get("node", "")), []).append(value)
    return list(groups.items())


def render_html(manifest: dict[str, Any]) -> str:
    """The whole page for a manifest (see :func:`artflow.gallery.manifest.manifest_data`)."""
    title = escape(manifest.get("title") or "artflow gallery")
    axes = manifest.get("axes", [])
    items = manifest.get("items", [])
    cards: list[str] = []
    data_items = []
    for n, item in enumerate(items):
        data_items.append({"name": item["name"], "params": item.get("params", {}), "seed": item["seed"],
                           "status": item["status"]})
        params_html = "".join(
            f"<li>{escape(_short_key(k))} <b>{escape(str(v))}</b></li>"
            for k, v in item.get("params", {}).items()
        )
        if item["status"] != "ok":
            error = item.get("error") or "not rendered yet"
            cards.append(
                f'<figure class="card failed" data-item="{n}"><div class="error">'
                f"{escape(item['status'])}: {escape(error)}</div><figcaption>"
                f'<div class="name">{escape(item["name"])}</div>'
                f'<ul class="params">{params_html}</ul></figcaption></figure>'
            )
            continue
        for image in item.get("images", []):
            caption = item.get("caption") or ""
            parts = [f'<div class="name">{escape(image["file"].rsplit("/", 1)[-1])}</div>']
            if caption:
                parts.append(f'<div class="caption">{escape(caption)}</div>')
            parts.append(f'<ul class="params">{params_html}</ul>')
            for node, labels in _by_node(image.get("labels", [])):
                text = ", ".join(f"{lab['label']} {lab['score']:.2f}" for lab in labels)
                parts.append(f'<p class="labels">{escape(node)}: {escape(text)}</p>')
            for node, boxes in _by_node(image.get("boxes", [])):
                text = ", ".join(f"{b['label']} {b['score']:.2f}" for b in boxes[:8])
                more = f" (+{len(boxes) - 8} more)" if len(boxes) > 8 else ""
                count = f"{len(boxes)} detection{'s' if len(boxes) != 1 else ''}"
                parts.append(f'<p class="boxes">{escape(node)}: {count}: {escape(text + more)}</p>')
            alt = escape(caption or item["name"], quote=True)
            w, h = int(image.get("width", 0)), int(image.get("height", 0))
            cards.append(
                f'<figure class="card" data-item="{n}">'
                f'<a class="full" href="{_url(image["file"])}" title="full size">'
                f'<img src="{_url(image["thumb"])}" alt="{alt}" loading="lazy" '
                f'data-size="{w}x{h}"></a>'
                f"<figcaption>{''.join(parts)}</figcaption></figure>"
            )
    filters = []
    for axis in axes:
        if len(axis["values"]) < 2:
            continue
        options = "".join(f'<option value="{escape(v, quote=True)}">{escape(v)}</option>'
                          for v in dict.fromkeys(axis["values"]))
        filters.append(f'<label>{escape(_short_key(axis["key"]))} '
                       f'<select data-axis="{escape(axis["key"], quote=True)}">'
                       f'<option value="">all</option>{options}</select></label>')
    counts = manifest.get("counts", {})
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    desc = manifest.get("description") or ""
    data = {"title": manifest.get("title"), "axes": axes, "items": data_items}
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<header><h1>{title}</h1>' + (f'<p class="desc">{escape(desc)}</p>' if desc else "")
        + f'<p class="count"><span id="count">{len(cards)} images</span> · {escape(summary)}</p></header>',
        f'<nav class="filters">{"".join(filters)}</nav>' if filters else "",
        f'<main class="grid" id="grid">{"".join(cards)}</main>',
        '<div id="lightbox" role="dialog" aria-label="full-size view"><img alt=""><p></p></div>',
        f'<script type="application/json" id="gallery-data">{script_json(data)}</script>',
        f"<script>{JS}</script>",
        "</body></html>",
        "",
    ])
