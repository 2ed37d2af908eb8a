"""``.npy`` arrays from outside (a graph's ``<sha256>.npy``, a picture's embedded array) are read by
one rule (artflow.npyfiles): uint8 or float in [0, 1], H×W×C or N×H×W×C; anything else is one line
and exit 2. On the old main these exited 1, or were accepted silently (int64, bool, NaN, 3.0,
trailing bytes: exit 0), except the two wrong shapes, kept as checks of the rule."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from artflow.sketch import _STORE

from .inproc import chdir, files_under, run_cli
from .png_graphs import picture, record


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _header(descr: str, shape: str, body: bytes = b"", version: bytes = b"\x01\x00") -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}".encode()
    text += b" " * (63 - len(text) % 64) + b"\n"
    return b"\x93NUMPY" + version + struct.pack("<H", len(text)) + text + body


BAD = {
    "object": _npy(np.array([[[{"a": 1}]]], dtype=object)),
    "huge header": b"\x93NUMPY\x02\x00" + struct.pack("<I", 50_000_000) + b"{" * 1000,
    "negative dim": _header("<f4", "(-1, 4, 3)"),
    "overflowing dims": _header("<f4", f"({2**62}, {2**62}, 3)"),
    "truncated": _npy(np.zeros((8, 8, 3), np.float32))[:-40],
    "padded": _npy(np.zeros((1, 8, 8, 3), np.float32)) + b"\0" * 12,
    "not npy": b"PK\x03\x04 this is a zip file",
    "int64": _npy(np.full((1, 4, 4, 3), 7, np.int64)),
    "bool": _npy(np.ones((1, 4, 4, 3), bool)),
    "complex": _npy(np.zeros((1, 4, 4, 3), np.complex64)),
    "nan": _npy(np.full((1, 4, 4, 3), np.nan, np.float32)),
    "out of range": _npy(np.full((1, 4, 4, 3), 3.0, np.float32)),
    "two dims": _npy(np.zeros((4, 4), np.float32)),
    "five channels": _npy(np.zeros((4, 4, 5), np.float32)),
    "bad header text": _header("<f4", "__import__('os')"),
}


def _graph(sha: str) -> dict:
    return {"artflow": 1, "nodes": {"a": {"type": "const.image", "params": {"sha256": sha}},
                                    "out": {"type": "image.save", "inputs": {"image": "a"},
                                            "params": {"path": "a.png"}}}}


def _run_with_file(tmp_path: Path, data: bytes) -> tuple[int, str]:
    sha = hashlib.sha256(data).hexdigest()
    _STORE.pop(sha, None)
    (tmp_path / f"{sha}.npy").write_bytes(data)
    (tmp_path / "g.json").write_text(json.dumps(_graph(sha)))
    with chdir(tmp_path):
        result = run_cli("run", "g.json", "-o", "out")
    return result.code, result.err


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_npy_beside_a_graph_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    code, err = _run_with_file(tmp_path, BAD[case])
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == set()


@pytest.mark.parametrize("case", ["object", "nan", "int64", "truncated"])
def test_a_bad_array_embedded_in_a_picture_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    data = BAD[case]
    sha = hashlib.sha256(data).hexdigest()
    _STORE.pop(sha, None)
    png = picture(tmp_path / "x.png", record(_graph(sha)["nodes"],
                                             arrays={sha: base64.b64encode(data).decode()}))
    result = run_cli("run", str(png), "-o", str(tmp_path / "out"))
    assert result.code == 2 and len(result.error_lines) == 1, result.err
    assert not (tmp_path / "out").exists()


def test_uint8_is_divided_by_255_and_float_kept_exactly(tmp_path: Path) -> None:
    from artflow.npyfiles import read_npy

    got = read_npy(_npy(np.full((2, 2, 3), 200, np.uint8)), "x")
    assert got.dtype == np.float32 and got.shape == (1, 2, 2, 3)
    assert np.allclose(got, 200 / 255)
    half = read_npy(_npy(np.full((1, 2, 2, 4), 0.25, np.float64)), "x")
    assert half.dtype == np.float32 and float(half.max()) == 0.25


def test_a_name_that_is_not_a_sha256_is_refused(tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text(json.dumps(_graph("../../etc/passwd")))
    with chdir(tmp_path):
        result = run_cli("run", "g.json", "-o", "out")
    assert result.code == 2 and "not a sha256" in result.err


def test_a_huge_constant_is_refused_by_the_budget_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    data = _header("<f4", "(1, 700, 700, 4)", b"\0" * (700 * 700 * 16))  # 7.8 MB
    monkeypatch.setenv("ARTFLOW_MAX_MEMORY_MB", "4")
    code, err = _run_with_file(tmp_path, data)
    assert code == 2 and ("budget" in err or "ARTFLOW_MAX_MEMORY_MB" in err), err
