"""The files `artflow plugin new` writes (string.Template: $name, $pkg, $dist, $kind, $artflow).

A plain plugin gets one node (`NAME.posterize`); ``--model`` adds a model node (`NAME.tone`), the
trainer that makes its model (a 1×1 convolution learning a colour matrix, exported by artflow's
exporter) and ship.py (artflow.shipping), which the scaffold runs once so the package ships a
real, tiny ONNX model with its card.
"""

from __future__ import annotations

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "An artflow plugin: $name nodes."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["artflow>=$artflow", "numpy"]

[project.optional-dependencies]
test = ["pytest>=8"]
train = ["artflow[train]"]

# the one entry that makes this package an artflow plugin
[project.entry-points.artflow]
$name = "$pkg"

[tool.setuptools]
packages = ["$pkg"]

[tool.setuptools.package-data]
$pkg = ["models/*.onnx", "models/*.json"]
'''

INIT = '''\
"""$dist: artflow nodes registered through the `artflow` entry point (see README.md)."""

from artflow import hookimpl
from artflow.registry import register_modules


@hookimpl
def register_nodes(register):
    register_modules(register, __package__, "nodes")
'''

INIT_MODEL = '''\
"""$dist: artflow nodes, the models this package ships and their trainer (see README.md)."""

from artflow import hookimpl
from artflow.registry import register_modules
from artflow.shipping import register_shipped_models


@hookimpl
def register_nodes(register):
    register_modules(register, __package__, "nodes")


@hookimpl
def register_models(register):
    register_shipped_models(register, __package__)


@hookimpl
def register_trainers(register):
    register("$kind", f"{__package__}.train:train_tone")
'''

NODES = '''\
"""The node types of $dist (NODES is what the plugin registers)."""

import numpy as np

import artflow as af


@af.node("$name.posterize", category="color", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
         params={"levels": af.Int(4, min=2, max=256, doc="how many levels each colour channel keeps")})
def posterize(ctx, image, levels):
    """Reduce every colour channel to a few evenly spaced levels."""
    return (np.round(image * (levels - 1)) / (levels - 1)).astype(np.float32)


NODES = [posterize]
'''

NODES_MODEL = NODES.replace("\n\nNODES = [posterize]\n", '''

@af.node("$name.tone", category="model", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
         params={"model": af.Model("$kind", "sepia", card=True,
                                   doc="a registered $kind model (sepia) or a path to its .onnx"),
                 "strength": af.Float(1.0, min=0.0, max=1.0, doc="0 keeps the image, 1 is the full tone")})
def tone(ctx, image, model, strength):
    """Recolour images with a learned colour transform (an ONNX model this plugin ships)."""
    from artflow.models import prepare_images

    session = ctx.session("model")  # opened by the engine, its sha256 and card kind checked
    rgb = image[..., :3]
    x = prepare_images(rgb, session.card.input())
    toned = np.clip(session.run_batched({session.input_names[0]: x})[session.output_names[0]], 0, 1)
    out = rgb + strength * (toned - rgb)
    return np.concatenate([out, image[..., 3:]], axis=-1) if image.shape[-1] == 4 else out


NODES = [posterize, tone]
''')

TRAIN = '''\
"""`artflow train $kind`: learn a colour transform (a 1×1 convolution) from seeded random pixels,
export it to ONNX with artflow's exporter (parity-checked against TensorFlow) with its card.

    artflow train $kind --target sepia -o runs/sepia
    python -m $pkg.ship runs/sepia/sepia.onnx     # into $pkg/models/, recorded in the manifest
"""

import click
import numpy as np

from artflow.models.card import InputSpec
from artflow.train.trainer import TrainRun, trainer_command

#: each target tone as the 3x3 matrix a pixel (a row, RGB) is multiplied by; rows sum to <= 1
TARGETS = {
    "sepia": np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]) / 1.351,
    "cool": np.array([[0.7, 0.1, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.8]]),
}


def toned(pixels, target):
    """What the model learns: ``pixels`` (..., 3) times the target matrix, in [0, 1]."""
    return np.clip(pixels @ TARGETS[target].T, 0.0, 1.0).astype(np.float32)


@trainer_command("$kind", help="Learn a colour tone (a 1x1 convolution) and export it.",
                 default_epochs=25, default_batch_size=64)
@click.option("--target", type=click.Choice(sorted(TARGETS)), default="sepia", show_default=True,
              help="The colour matrix to learn.")
def train_tone(run: TrainRun, target: str) -> None:
    """Fit the 1x1 convolution on random pixels, check it on held-out ones, export it."""
    import keras

    rng = np.random.default_rng(run.seed)
    count = 256 if run.quick else 1024
    x = rng.random((count, 4, 4, 3), dtype=np.float32)
    held_out = rng.random((64, 4, 4, 3), dtype=np.float32)
    model = keras.Sequential([keras.Input((None, None, 3), name="image"), keras.layers.Conv2D(3, 1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.fit(x, toned(x, target), epochs=run.epochs, batch_size=run.batch_size, verbose=0,
              validation_data=(held_out, toned(held_out, target)), callbacks=run.keras_callbacks())
    error = np.abs(np.clip(model.predict(held_out, verbose=0), 0, 1) - toned(held_out, target))
    run.metrics["held_out_max_abs_error"] = float(error.max())
    run.data = f"{count} seeded random 4x4 RGB patches; target: the '{target}' colour matrix"
    run.name = target if run.name == "$kind" else run.name
    run.save_model(model)
    card = run.card(description=f"Colour tone '{target}': a 1x1 convolution learned from pixels.",
                    inputs=[InputSpec("image")], outputs={"toned": "the toned image (clip to [0, 1])"})
    run.export(model, card, real_inputs=held_out)
'''

SHIP = '''\
"""Ship a trained $kind model into this package (models/ and models/manifest.json):

    python -m $pkg.ship runs/sepia/sepia.onnx     # an exported model (artflow train $kind)
    python -m $pkg.ship --train                    # train the sepia tone here, then ship it
"""

import os
import sys
import tempfile
from pathlib import Path

from artflow import shipping


def ship(onnx_file):
    """Copy the model in, check its card is a $kind card, record its sha256 and figures."""
    return shipping.ship(__package__, Path(onnx_file), kind="$kind",
                         metrics=("held_out_max_abs_error", "parity_max_abs_diff"))


def train_and_ship(target="sepia"):
    """Train the tone with this package's trainer (TensorFlow), export it, ship it; the card records
    the command as `artflow train $kind --target ...` (its default folder, in a temporary one)."""
    from .train import train_tone

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            train_tone.main(["--target", target], prog_name="artflow train $kind", standalone_mode=False)
        finally:
            os.chdir(here)
        return ship(Path(scratch) / "artflow-train" / "$kind" / f"{target}.onnx")


if __name__ == "__main__":
    for entry in [train_and_ship()] if sys.argv[1:] == ["--train"] else map(ship, sys.argv[1:]):
        print(f"shipped {entry['kind']} '{entry['name']}': sha256 {entry['sha256'][:12]}, {entry['metrics']}")
'''

TESTS = '''\
"""$dist's own tests: the plugin registers through its entry point and its nodes run in a graph."""

import numpy as np

import artflow as af


def gradient_graph():
    g = af.Graph(seed=1)
    image = g.add("generate.gradient", width=64, height=32, colors=["#ff2000", "#20ff80", "#2040ff"])
    return g, image


def test_the_plugin_is_loaded_through_its_entry_point():
    plugins = af.get_plugins()
    assert "$name.posterize" in plugins.nodes
    assert not [p.error for p in plugins.plugins.values() if p.error]


def test_posterize_keeps_only_the_asked_levels():
    g, image = gradient_graph()
    out = g.add("$name.posterize", image=image, levels=3)
    result = g.run()
    values = np.unique(np.asarray(result[out]))
    assert set(np.round(values, 4)) <= {0.0, 0.5, 1.0}
    assert np.abs(np.asarray(result[out]) - np.asarray(result[image])).max() <= 0.25 + 1e-6
'''

TESTS_MODEL = TESTS + '''

def test_the_shipped_tone_is_registered_with_its_card():
    entry = af.get_plugins().models.resolve("sepia", "$kind")  # sha256 checked here
    assert entry.card.kind == "$kind" and entry.card.metrics["parity_max_abs_diff"] <= 1e-4


def test_tone_recolours_as_the_learned_matrix_does():
    from $pkg.train import toned

    g, image = gradient_graph()
    out = g.add("$name.tone", image=image, model="sepia")
    result = g.run()
    expected = toned(np.asarray(result[image]), "sepia")
    assert np.abs(np.asarray(result[out]) - expected).max() < 0.03
'''

README = '''\
# $dist

An [artflow](https://pypi.org/project/artflow/) plugin, made with `artflow plugin new`.

| node | what it does |
|---|---|
| `$name.posterize` | reduce every colour channel to a few levels |
$model_row
## Use it

    artflow install -e .        # editable: your edits apply at once
    artflow plugins             # $dist and its nodes
    artflow nodes $name.posterize
    pytest                      # this package's own tests

```python
import artflow as af

g = af.Graph(seed=1)
image = g.add("generate.gradient", width=256, height=256)
g.add("image.save", image=g.add("$name.posterize", image=image, levels=4), path="posterized.png")
g.run()
```
$model_section'''

README_MODEL_ROW = "| `$name.tone` | recolour with a learned colour matrix (an ONNX model shipped here) |\n"

README_MODEL_SECTION = '''
## The model: train → export → ship → node

`$pkg/models/sepia.onnx` was made by this package's own code when the scaffold ran
`python -m $pkg.ship --train`: `train.py` fits a 1×1 convolution in Keras, artflow's exporter
writes the ONNX file with its card (parity-checked against TensorFlow), and `ship.py` copies it
into `models/` with its sha256 in `models/manifest.json` (`artflow.shipping.ship`). The plugin
registers it with `register_shipped_models`; `$name.tone` declares `af.Model("$kind", card=True)`,
so the engine refuses a file that is not a $kind model before anything runs. To train another:

    pip install 'artflow[train]'
    artflow train $kind --target cool -o runs/cool
    python -m $pkg.ship runs/cool/cool.onnx
'''

WORKFLOW = '''\
name: test
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: python -m pip install -e ".[test]"
      - run: python -m pytest -q
'''

GITIGNORE = "__pycache__/\n*.egg-info/\nbuild/\nruns/\n"
