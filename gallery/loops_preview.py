"""Make gallery/loops_preview.jpg from a render of gallery/loops.toml: one row per loop (in the
order the page shows them): frames 0, N/4, N/2, 3N/4 and N-1 read back from its animated
thumbnail, then (after a white gap) frame 0 again, so the seam into frame 0 can be judged by eye.

    artflow render gallery/loops.toml -o build/loops
    python gallery/loops_preview.py build/loops gallery/loops_preview.jpg
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageSequence

TILE = 176
GAP = 6


def loop_frames(anim: Path) -> list[Image.Image]:
    """Every frame of an animated WebP thumbnail, as RGB; a frame the encoder merged with its
    repeats (a longer duration) counts as that many frames, so frame k is the loop's frame k."""
    with Image.open(anim) as im:
        shown = [(f.convert("RGB"), f.info.get("duration", 0)) for f in ImageSequence.Iterator(im)]
    tick = min(d for _, d in shown) or 1
    return [frame for frame, d in shown for _ in range(max(1, round(d / tick)))]


def strip_row(frames: list[Image.Image]) -> list[Image.Image]:
    """Frames 0, N/4, N/2, 3N/4, N-1 and 0 again, tile-sized."""
    n = len(frames)
    picks = [0, n // 4, n // 2, 3 * n // 4, n - 1, 0]
    return [frames[k].resize((TILE, TILE), Image.Resampling.LANCZOS) for k in picks]


def make_preview(out_dir: Path, target: Path) -> None:
    records = [json.loads(line) for line in (out_dir / "manifest.jsonl").read_text().splitlines()[1:]]
    anims = [out_dir / f for r in records for f in r.get("files", []) if f.endswith(".anim.webp")]
    if not anims:
        raise SystemExit(f"no animated thumbnails in {out_dir / 'thumbs'}: render gallery/loops.toml first")
    rows = [strip_row(loop_frames(a)) for a in anims]
    width = 6 * TILE + 9 * GAP  # a white gap 4 * GAP wide before frame 0 again
    sheet = Image.new("RGB", (width, len(rows) * (TILE + GAP) - GAP), (20, 20, 20))
    for r, row in enumerate(rows):
        y = r * (TILE + GAP)
        for c, tile in enumerate(row):
            x = c * (TILE + GAP) + (4 * GAP if c == 5 else 0)
            if c == 5:
                sheet.paste((255, 255, 255), (x - 4 * GAP, y, x, y + TILE))
            sheet.paste(tile, (x, y))
    tmp = target.with_suffix(".tmp.jpg")
    sheet.save(tmp, "JPEG", quality=86, optimize=True)
    tmp.replace(target)
    print(f"{target}: {len(rows)} loops, {sheet.size[0]}x{sheet.size[1]}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python gallery/loops_preview.py RENDER_DIR TARGET.jpg")
    make_preview(Path(sys.argv[1]), Path(sys.argv[2]))
