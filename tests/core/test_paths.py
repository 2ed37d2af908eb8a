"""One confined() and one safe_name() for the engine and the gallery; one atomic write."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest

from artflow.errors import PathError
from artflow.gallery import jobs, worker
from artflow.paths import MAX_NAME, confined, safe_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "name"), [
    ("my photo", "my_photo"),
    ("café", "café"),
    ("cafe\u0301", "café"),  # decomposed accents are composed, not dropped
    ("日本の写真", "日本の写真"),
    ("../../x", "x"),
    ("/etc/passwd", "etc_passwd"),
    ("..", "item"),
    ("", "item"),
    (".hidden", "hidden"),
    ("-rf", "rf"),
    ("a\x00b\nc\td", "a_b_c_d"),
    ("a - b", "a_b"),
    ("<script>alert(1)</script>", "script_alert_1_script"),
    ("con", "con_"),
    ("NUL.txt", "NUL.txt_"),
    ("x" * 300, "x" * MAX_NAME),
])
def test_safe_name_rule(text: str, name: str) -> None:
    assert safe_name(text) == name
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_safe_name_default_names_what_was_empty() -> None:
    assert safe_name("???", "image") == "image"


def test_gallery_and_image_save_name_files_the_same_way(tmp_path: Path) -> None:
    """The gallery's item names and image.save's {name} were two rules; now they are one."""
    from tests.nodes.conftest import call_node

    assert jobs.safe_name is safe_name
    names = ["my photo", "café <1>", "../up"]
    image = np.zeros((3, 4, 4, 3), np.float32)
    paths = call_node("image.save", tmp=tmp_path, image=image, names=names, path="{name}.png")
    assert [Path(p).name for p in paths] == [f"{safe_name(n, 'image')}.png" for n in names]
    assert [Path(p).name for p in paths] == ["my_photo.png", "café_1.png", "up.png"]


@pytest.mark.parametrize("bad", ["", "a\x00b", "/tmp/abs.png", "../out.png", "a/../../b.png", ".", "a/.."])
def test_confined_refuses_paths_that_do_not_name_a_file_inside_the_root(tmp_path: Path, bad: str) -> None:
    with pytest.raises(PathError) as info:
        confined(tmp_path, bad, who="node 'save'")
    assert str(info.value).startswith("node 'save': ") and "\n" not in str(info.value)


def test_confined_follows_symlinks_before_deciding(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(PathError, match="leaves the output folder"):
        confined(root, "link/escape.png")
    assert confined(root, "sub/ok.png") == root.resolve() / "sub" / "ok.png"


def test_engine_and_gallery_share_one_confined() -> None:
    """NodeContext.output_path and the gallery worker call artflow.paths.confined."""
    from artflow.nodes import NodeContext

    assert not hasattr(worker, "confined") or worker.confined is confined
    ctx = NodeContext(node_id="save", node_type="image.save", seed=1, output_dir=Path("/nonexistent"))
    with pytest.raises(PathError, match="^node 'save': output path '../x' leaves the output folder"):
        ctx.output_path("../x")


def test_one_atomic_write_and_one_exception_describer() -> None:
    assert importlib.util.find_spec("artflow.gallery.fileio") is None
    idiom = re.compile(r"str\(exc\)(\.strip\(\))?\.splitlines\(\)|def _first_line|errors import _describe")
    found = []
    for root in (ROOT / "artflow", ROOT / "plugins"):
        for path in root.rglob("*.py"):
            if path != ROOT / "artflow" / "errors.py" and idiom.search(path.read_text()):
                found.append(str(path.relative_to(ROOT)))
    assert found == [], "use artflow.errors.describe(exc) (with_type=False for the bare first line)"


def test_atomic_write_gives_the_usual_permissions(tmp_path: Path) -> None:
    from artflow.imaging import atomic_write_bytes

    mask = os.umask(0o022)
    os.umask(mask)
    target = tmp_path / "deep" / "file.bin"
    atomic_write_bytes(target, b"data")
    assert target.read_bytes() == b"data"
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_a_tilde_name_of_no_user_stays_a_literal_name() -> None:
    """`~0` (no such user) made Path.expanduser raise RuntimeError, an exit 1 found by the fuzz."""
    from artflow.paths import expand_user

    assert expand_user("~0/a.png") == Path("~0/a.png")
    assert expand_user("~/a.png") == Path.home() / "a.png"
