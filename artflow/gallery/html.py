"""index.html: a static page that works from file:// and stays quick at 100,000 items.

The page is a shell (header, search, filters, pager, an empty grid) plus part files of 1,000
items each (``index/part-00000.js``), written from the manifest a part at a time; the page's
script (:mod:`artflow.gallery.page_script`) loads the part it shows first, then the others.
Everything a spec or an input file name can put on the page is escaped: the shell's text as
HTML, the data as JSON whose '<', '>' and '&' are escaped (no value can close a script), and
the script builds cards with escaped text.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

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
.filters select,.filters input,.pager input,.pager button{background:var(--card);color:var(--fg);
 border:1px solid #3a3c44;border-radius:6px;padding:3px 6px;font:inherit}
.filters input.num{width:6.5em}
#search{min-width:16em}
.pager{display:flex;gap:8px;align-items:center;padding:0 22px 12px;color:var(--dim)}
.pager[hidden]{display:none}
.pager input{width:5em}
.pager button:disabled{opacity:.4}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,210px),1fr));gap:14px;
 padding:0 22px 28px}
.card{margin:0;background:var(--card);border-radius:10px;overflow:hidden;display:flex;flex-direction:column}
.card[hidden]{display:none}
.card a.full{display:block;background:#0c0c0e}
.thumb{aspect-ratio:1/1}
.thumb img,.thumb video{display:block;width:100%;height:100%;object-fit:contain}
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

#: items per page, and per part file (a part is one small script the page loads on demand)
PER_PAGE = 60
PART_SIZE = 1000
PART_DIR = "index"
#: an axis with at most this many distinct text values gets a drop-down; more get a text box
MAX_CHOICES = 40


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' survives unescaped."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _short_key(key: str) -> str:
    return key.rsplit(".", 1)[-1] if key != "seed" else key


def _by_node(values: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Labels or boxes grouped by the node that gave them, in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for value in values:
        groups.setdefault(str(value.get("node", "")), []).append(value)
    return list(groups.items())


def _labels_text(image: dict[str, Any]) -> tuple[str, str]:
    labels = "; ".join(f"{node}: " + ", ".join(f"{lab['label']} {lab['score']:.2f}" for lab in group)
                       for node, group in _by_node(image.get("labels", [])))
    boxes = []
    for node, group in _by_node(image.get("boxes", [])):
        text = ", ".join(f"{b['label']} {b['score']:.2f}" for b in group[:8])
        more = f" (+{len(group) - 8} more)" if len(group) > 8 else ""
        boxes.append(f"{node}: {len(group)} detection{'s' if len(group) != 1 else ''}: {text}{more}")
    return labels, "; ".join(boxes)


class _Packer:
    """Records → the compact rows the page reads: [name, caption, status, error, axis value
    indices, images]; an image is [where, width, height, labels, boxes, anim], where ``where``
    is the file stem for images/STEM.png + thumbs/STEM.ext, else [file, thumb]."""

    def __init__(self, header: dict[str, Any], thumb_ext: str):
        self.axes = header.get("axes", [])
        self.lookup = [{v: i for i, v in enumerate(a["values"])} for a in self.axes]
        self.thumb_ext = thumb_ext

    def row(self, record: dict[str, Any]) -> list[Any]:
        params = record.get("params") or {}
        idx = [lookup.get(params.get(a["key"]), 0) for a, lookup in zip(self.axes, self.lookup, strict=True)]
        images = []
        if record.get("status") == "ok":
            for image in record.get("images", []):
                file, thumb = image["file"], image["thumb"]
                stem = file[len("images/"):-len(".png")] if file.startswith("images/") else ""
                usual = bool(stem) and file.endswith(".png") and thumb == f"thumbs/{stem}{self.thumb_ext}"
                labels, boxes = _labels_text(image)
                images.append([stem if usual else [file, thumb], int(image.get("width", 0)),
                               int(image.get("height", 0)), labels, boxes, image.get("anim") or ""])
        return [record.get("name", ""), record.get("caption") or "", record.get("status", "pending"),
                record.get("error"), idx, images]


def axis_controls(axes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Per axis, how the page filters it (a drop-down, a from–to range, a text box), and the HTML."""
    out, html = [], []
    for axis in axes:
        values = list(axis["values"])
        distinct = list(dict.fromkeys(values))
        control = "range" if axis.get("numeric") else "choice" if len(distinct) <= MAX_CHOICES else "text"
        out.append({"key": axis["key"], "short": _short_key(axis["key"]), "values": values,
                    "control": control})
        if len(distinct) < 2:
            continue
        key = escape(axis["key"], quote=True)
        label = escape(_short_key(axis["key"]))
        if control == "choice":
            options = "".join(f'<option value="{escape(v, quote=True)}">{escape(v)}</option>'
                              for v in distinct)
            html.append(f'<label>{label} <select data-axis="{key}"><option value="">all</option>'
                        f"{options}</select></label>")
        elif control == "range":
            nums = [float(v) for v in values]
            lo = escape(values[nums.index(min(nums))], quote=True)
            hi = escape(values[nums.index(max(nums))], quote=True)
            box = ('<input class="num {}" type="number" step="any" data-axis="{}" placeholder="{}" '
                   'aria-label="{}">')
            html.append(f"<label>{label} {box.format('lo', key, lo, label + ' from')} – "
                        f"{box.format('hi', key, hi, label + ' to')}</label>")
        else:
            html.append(f'<label>{label} <input type="search" data-axis="{key}" placeholder="contains…">'
                        "</label>")
    return out, "".join(html)


PAGER = ('<nav class="pager"><button class="prev" type="button">← prev</button> page '
         '<input class="pageno" type="number" min="1" value="1" aria-label="page"> of '
         '<span class="pages">1</span><button class="next" type="button">next →</button></nav>')


def render_html(header: dict[str, Any], total: int, counts: dict[str, int], thumb_ext: str) -> str:
    """The page shell: header, controls, an empty grid the script fills from the part files."""
    from .page_script import JS

    title = escape(header.get("title") or "artflow gallery")
    axes, controls = axis_controls(header.get("axes", []))
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    desc = header.get("description") or ""
    parts = -(-total // PART_SIZE)
    data = {"title": header.get("title"), "axes": axes, "total": total, "parts": parts,
            "part_size": PART_SIZE, "per_page": PER_PAGE, "thumb_ext": thumb_ext}
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<header><h1>{title}</h1>' + (f'<p class="desc">{escape(desc)}</p>' if desc else "")
        + f'<p class="count"><span id="count">{total} item{"" if total == 1 else "s"}</span> · '
        f"{escape(summary)}</p></header>",
        '<nav class="filters"><label>search <input id="search" type="search" '
        f'placeholder="names and captions"></label>{controls}</nav>',
        PAGER,
        '<main class="grid" id="grid"></main>',
        PAGER,
        '<noscript><p class="desc">This page needs JavaScript to show the items; the images are in '
        "images/ and the records in manifest.jsonl.</p></noscript>",
        '<div id="lightbox" role="dialog" aria-label="full-size view"><img alt=""><p></p></div>',
        f'<script type="application/json" id="gallery-data">{script_json(data)}</script>',
        f"<script>{JS}</script>",
        "</body></html>",
        "",
    ])


def write_index(out_root: Path, keys: set[str] | None = None, *, compacted: bool = False) -> None:
    """index.html and its part files from the manifest, streamed part by part (only the current
    items when ``keys`` is given); unchanged files are not rewritten, stale parts removed.
    ``compacted``: the log holds one record per item in order (as a render leaves it), so it is
    read straight through instead of being scanned first."""
    from .manifest import MANIFEST, read_header, scan, write_if_changed
    from .spec import THUMB_FORMATS

    header = read_header(out_root) or {"title": out_root.name, "axes": []}
    thumb_ext = THUMB_FORMATS.get(str(header.get("thumb_format", "jpeg")), ".jpg")
    packer = _Packer(header, thumb_ext)
    counts: dict[str, int] = {}
    folder = out_root / PART_DIR
    folder.mkdir(exist_ok=True)
    written: set[str] = set()
    total = 0
    rows: list[list[Any]] = []

    def flush() -> None:
        name = f"part-{len(written):05d}.js"
        text = f"artflowPart({len(written)},{script_json(rows)});\n"
        write_if_changed(folder / name, text.encode("utf-8"))
        written.add(name)
        rows.clear()

    for record in _records(out_root / MANIFEST, None if compacted else scan(out_root, check_files=False)):
        if keys is not None and record.get("key") not in keys:
            continue
        rows.append(packer.row(record))
        status = record.get("status", "pending")
        counts[status] = counts.get(status, 0) + 1
        total += 1
        if len(rows) >= PART_SIZE:
            flush()
    if rows:
        flush()
    for stale in folder.glob("part-*.js"):
        if stale.name not in written:
            stale.unlink()
    write_if_changed(out_root / INDEX, render_html(header, total, counts, thumb_ext).encode("utf-8"))


def _records(path: Path, found: Any) -> Any:
    """The records of a log: straight through (``found`` None: compacted), else the newest per
    key in item order."""
    from .manifest import read_record

    if found is not None and not found.offsets:
        return
    with open(path, "rb") as fh:
        if found is None:
            fh.readline()  # the header
            for line in fh:
                if line.endswith(b"\n"):
                    yield json.loads(line)
            return
        order = sorted(found.offsets.values()) if found.compact else _by_index(fh, found.offsets)
        for offset in order:
            yield read_record(fh, offset)


def _by_index(fh: Any, offsets: dict[str, int]) -> list[int]:
    """Record offsets in item order (a log that was not compacted: a render was interrupted)."""
    import json as _json

    pairs = []
    for offset in offsets.values():
        fh.seek(offset)
        pairs.append((_json.loads(fh.readline()).get("index", 0), offset))
    return [offset for _, offset in sorted(pairs)]
