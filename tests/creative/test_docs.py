"""Every code block in docs/ runs as pasted, like the README's (tests/creative/test_readme.py):
Python and shell blocks run in a fresh folder holding the checkout's gallery/, unless a
`<!-- not run: why -->` line stands right before them; TOML and JSON blocks must parse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from .test_readme import ROOT, RUNNABLE, blocks

DOCS = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_doc_code_blocks_run_or_parse(doc: Path, tmp_path: Path) -> None:
    os.symlink(ROOT / "gallery", tmp_path / "gallery")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["ARTFLOW_CACHE"] = str(tmp_path / "cache")
    for lang, code, runs in blocks(doc.read_text(encoding="utf-8")):
        if lang == "toml":
            tomllib.loads(code)
        elif lang == "json":
            json.loads(code)
        elif lang in RUNNABLE and runs:
            shell = ["bash", "-euo", "pipefail", "-c", code]
            cmd = [sys.executable, "-c", code] if lang == "python" else shell
            proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"{doc.name}: block failed:\n{code}\n{proc.stderr[-2000:]}"
