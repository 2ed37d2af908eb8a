"""Ship trained styles as package data and draw the contact sheet (contact_sheet.py).

    python -m artflow_style.ship runs/glass runs/flow runs/halftone runs/marble
    python -m artflow_style.ship --sheet gallery/style_contact_sheet.png

Each run folder holds NAME.onnx (with its card), NAME.keras (for benchmarks; not package data)
and NAME_style.png, written by `artflow train style`; the manifest gets the held-out metrics.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from artflow import shipping

METRICS = ("_gram_ratio", "_edge_corr", "_color_ratio")


def ship(runs: list[Path]) -> list[dict[str, Any]]:
    """Copy each run's model, weights and style image into models/ and record them."""
    items = []
    for run in runs:
        model = shipping.only_model(run)
        card = shipping.carded(model, "style")
        files = {"keras": (model.with_suffix(".keras"), f"{card.name}.keras"),
                 "style_image": (run / card.extra["style_image"], f"{card.name}_style.png")}
        items.append(shipping.ship(__package__, model, kind="style", files=files,
                                   metrics=lambda key: key.endswith(METRICS)))
    return items


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--sheet"]:
        from .contact_sheet import contact_sheet

        print(contact_sheet(Path(args[1] if len(args) > 1 else "gallery/style_contact_sheet.png")))
    else:
        for item in ship([Path(p) for p in args]):
            print(f"{item['name']}: {item['sha256'][:12]} {item['metrics']}")
