"""Docs that list choices are built from what is registered, so they cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

from artflow.shipping import shipped_models

ROOT = Path(__file__).resolve().parents[2]


def test_style_transfer_help_lists_every_shipped_style(artflow_cli):
    styles = sorted(e["name"] for e in shipped_models("artflow_style") if e["kind"] == "style")
    assert len(styles) >= 6
    shown = artflow_cli("nodes", "style.transfer")
    assert shown.returncode == 0, shown.stderr
    line = next(ln for ln in shown.stdout.splitlines() if ln.strip().startswith("param style:"))
    assert f"a registered style model ({', '.join(styles)})" in line
    described = json.loads(artflow_cli("nodes", "style.transfer", "--json").stdout)
    assert described["params"]["style"]["registered"] == styles


def test_the_readme_intro_counts_the_shipped_styles():
    styles = [e for e in shipped_models("artflow_style") if e["kind"] == "style"]
    intro = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    counts = re.findall(r"of the (\d+) shipped\s+styles", intro)
    assert counts == [str(len(styles))]


def test_no_model_param_doc_lists_model_names_by_hand():
    """A param doc naming registered models goes stale when a plugin ships one more."""
    import artflow as af

    plugins = af.get_plugins()
    for spec in plugins.nodes:
        for name, param in spec.params.items():
            if param.kind == "model":
                listed = [m for m in plugins.models.names(param.model_kind or "")
                          if re.search(rf"\b{re.escape(m)}\b", param.doc)]
                assert not listed, f"{spec.name}.{name} doc names {listed}: `artflow nodes` lists them"


def test_render_help_says_where_the_output_goes_by_default(artflow_cli):
    shown = " ".join(artflow_cli("render", "--help").stdout.split())
    assert "default: build/<spec name> inside the current folder" in shown


def test_no_socket_shows_a_blank_doc():
    import artflow as af

    blank = [f"{spec.name}.{s.name}" for spec in af.get_plugins().nodes
             for s in (*spec.inputs, *spec.outputs) if not s.doc.strip()]
    assert blank == []

    @af.node("doc.bare", category="test", inputs={"image": af.IMAGE}, outputs={"mask": af.Out(af.MASK)})
    def bare(ctx, image):
        """Declared with bare socket types."""

    assert bare.inputs[0].doc == af.IMAGE.doc and bare.outputs[0].doc == af.MASK.doc


def test_the_file_param_is_af_file_and_the_old_path_name_warns():
    import warnings

    import artflow as af

    assert af.File("x.png", doc="a file").kind == "path"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = af.Path("x.png", doc="a file")
    assert old == af.File("x.png", doc="a file")
    assert [str(w.message) for w in caught if w.category is DeprecationWarning] == [
        "artflow.params.Path is deprecated: use artflow.params.File (af.File)"]
