"""`artflow models`: declared manifest files become paths; a missing or changed file is flagged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from artflow.errors import ModelError
from artflow.models import file_sha256


@pytest.fixture
def shipping_plugin(fake_plugin, model_copy: Path, tmp_path: Path) -> Path:
    """A real entry-point plugin shipping three models through a manifest: good, changed, gone."""
    models = tmp_path / "shipped"
    models.mkdir()
    shutil.copyfile(model_copy, models / "good.onnx")
    shutil.copyfile(model_copy, models / "changed.onnx")
    (models / "good.cube").write_text("LUT_3D_SIZE 2\n")
    sha = file_sha256(model_copy)
    with open(models / "changed.onnx", "ab") as fh:
        fh.write(b"\0")  # still loads, no longer the shipped bytes
    entry = {"kind": "classifier", "sha256": sha}
    manifest = {"models": [
        {**entry, "name": "good", "file": "good.onnx", "files": {"lut": "good.cube"}, "note": "kept"},
        {**entry, "name": "changed", "file": "changed.onnx"},
        {**entry, "name": "gone", "file": "gone.onnx"},
    ]}
    (models / "manifest.json").write_text(json.dumps(manifest))
    return fake_plugin("artflow-shipper", "artflow_shipper", f"""
        import artflow as af
        from artflow.shipping import register_manifest

        @af.hookimpl
        def register_models(register):
            register_manifest(register, {str(models)!r})
    """)


def test_models_lists_declared_files_as_paths_and_flags_bad_files(shipping_plugin: Path, artflow_cli):
    env = {"PYTHONPATH": str(shipping_plugin)}
    proc = artflow_cli("models", "--json", "--kind", "classifier", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    models = Path(rows["good"]["path"]).parent
    assert rows["good"]["lut"] == str(models / "good.cube") and rows["good"]["note"] == "kept"
    assert "files" not in rows["good"]
    assert [rows[n]["status"] for n in ("good", "changed", "gone")] == ["ok", "sha256 mismatch", "missing"]
    assert rows["digits"]["status"] == "ok" and rows["digits"]["keras"].endswith("digits.keras")
    assert "does not match its registered sha256" in rows["changed"]["error"]
    text = artflow_cli("models", "--kind", "classifier", env=env).stdout.splitlines()
    line = {ln.split()[1]: ln for ln in text if ln.startswith("classifier")}
    assert line["changed"].endswith("[SHA256 MISMATCH]") and line["gone"].endswith("[MISSING]")
    assert "[" not in line["good"]


def test_a_flagged_model_is_still_refused_when_used(shipping_plugin: Path):
    from artflow.plugins import get_plugins

    registry = get_plugins().models
    assert registry.resolve("good", "classifier").name == "good"
    with pytest.raises(ModelError, match="'changed' .* does not match its registered sha256"):
        registry.resolve("changed", "classifier")
    with pytest.raises(ModelError, match="'gone' is missing its file"):
        registry.resolve("gone", "classifier")


def test_shipping_knows_no_plugin_file_key():
    import artflow.shipping as shipping

    source = Path(shipping.__file__).read_text()
    assert "style_image" not in source and not hasattr(shipping, "FILE_KEYS")
