"""One file identity for the model layer: registry, card and session share a FileStamp record."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

import pytest

from artflow import models as runtime
from artflow.errors import ModelError
from artflow.models import FileStamp, ModelRegistry, files, read_card


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every real sha256 computation, by path."""
    seen: list[str] = []
    real = files.file_sha256

    def counting(path):
        seen.append(str(path))
        return real(path)

    files.forget()
    monkeypatch.setattr(files, "file_sha256", counting)
    yield seen
    files.forget()


def test_registry_card_and_session_hash_and_read_a_file_once_per_stamp(model_copy: Path, hashes, monkeypatch):
    from artflow.models import card as card_module

    reads: list[Path] = []
    real_read = card_module._read_metadata
    monkeypatch.setattr(card_module, "_read_metadata", lambda p: reads.append(p) or real_read(p))
    old = model_copy.stat().st_mtime_ns - 60 * 10**9  # written a minute ago: its stamp is trusted
    os.utime(model_copy, ns=(old, old))
    sha = files.file_sha256(model_copy)
    hashes.clear()
    a, b = ModelRegistry(), ModelRegistry()  # two registries (e.g. two plugin sets) share the record
    a.add("mine", "classifier", model_copy, sha, plugin="t")
    b.add("mine", "classifier", model_copy, sha, plugin="t")
    a.resolve("mine", "classifier")
    b.resolve("mine", "classifier")
    assert a.resolve(str(model_copy), "classifier").name == "mine"
    session = runtime.get_session(model_copy, "cpu")
    assert session.sha256 == sha
    assert read_card(model_copy) is session.card
    assert hashes == [str(model_copy.resolve())]
    assert reads == []  # the session's metadata gave the card
    os.utime(model_copy, ns=(old, old + 1_000_000))  # a new stamp: checked again
    a.verify(a.get("mine", "classifier"))
    assert len(hashes) == 2


def test_a_file_rewritten_within_its_timestamp_granularity_is_hashed_again(model_copy: Path, hashes):
    """A file modified moments ago may change again without a new mtime: its facts are not kept."""
    registry = ModelRegistry()
    registry.add("mine", "classifier", model_copy, files.file_sha256(model_copy), plugin="t")
    registry.resolve("mine", "classifier")
    st = model_copy.stat()
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    os.utime(model_copy, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: same stamp
    assert FileStamp.of(model_copy) == FileStamp(str(model_copy.resolve()), st.st_size, st.st_mtime_ns)
    with pytest.raises(ModelError, match="does not match its registered sha256"):
        registry.resolve("mine", "classifier")


def test_stamp_names_a_missing_file_and_a_directory(tmp_path: Path):
    with pytest.raises(ModelError, match="not found"):
        FileStamp.of(tmp_path / "nope.onnx")
    (tmp_path / "dir.onnx").mkdir()
    with pytest.raises(ModelError, match="is not a file"):
        FileStamp.of(tmp_path / "dir.onnx")


def test_relative_onnx_path_resolves_against_the_graph_folder(model_copy: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    graph_dir = tmp_path / "graphs"
    (graph_dir / "models").mkdir(parents=True)
    shutil.copyfile(model_copy, graph_dir / "models" / "mine.onnx")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    registry = ModelRegistry()
    entry = registry.resolve("models/mine.onnx", "classifier", base_dir=graph_dir)
    assert entry.path == graph_dir / "models" / "mine.onnx"
    assert entry.sha256 == files.file_sha256(model_copy)
    with pytest.raises(ModelError, match="not found"):
        registry.resolve("models/mine.onnx", "classifier")  # relative to the current folder: absent


def test_the_model_layer_imports_no_private_name_across_its_modules():
    root = Path(runtime.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from .{node.module}"
