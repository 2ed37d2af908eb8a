"""Ship trained generators as package data: copy each .onnx (and its .keras) into models/, record
its sha256 in models/manifest.json, and render its sample grid for the gallery (sample_grid.py).

    python -m artflow_generator.ship runs/digits/digits.onnx runs/art/art.onnx [--gallery gallery]
    python -m artflow_generator.ship --reexport art [--gallery gallery]      # reexport.py
    python -m artflow_generator.ship --remeasure art --remeasure digits
"""

from __future__ import annotations

import argparse
from pathlib import Path

from artflow import shipping


def main() -> None:
    from .reexport import reexport, remeasure
    from .sample_grid import sample_grid_png

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--reexport", action="append", default=[], metavar="NAME",
                        help="export the shipped NAME.keras again (repeatable)")
    parser.add_argument("--remeasure", action="append", default=[], metavar="NAME",
                        help="add FID in the pretrained backbone's features to NAME's card (repeatable)")
    parser.add_argument("--gallery", type=Path, help="folder for generator_NAME_samples.png grids")
    args = parser.parse_args()
    for path in [*args.models, *map(reexport, args.reexport), *map(remeasure, args.remeasure)]:
        twin = path.with_suffix(".keras")  # the Keras twin, for the ORT-vs-TF benchmarks
        entry = shipping.ship(__package__, path, kind="generator",
                              files={"keras": twin} if twin.is_file() else None)
        print(f"{entry['name']}: {entry['sha256']}")
        if args.gallery:
            big = entry["name"] != "digits"
            grid = sample_grid_png(shipping.models_dir(__package__) / entry["file"],
                                   args.gallery / f"generator_{entry['name']}_samples.png",
                                   rows=8, cols=8 if big else 10, cell=64 if big else 32)
            print(f"  grid: {grid}")


if __name__ == "__main__":
    main()
