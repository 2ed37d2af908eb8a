"""A script with its own node and a numpy input: plain ``@af.node`` and ``g.add(image=array)``
work, and the PNG names the script and carries the array, so re-rendering says what it needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from artflow.provenance import read_provenance

SKETCH = textwrap.dedent('''
    import numpy as np
    import artflow as af

    @af.node("my.tint", category="sketch", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
             params={"amount": af.Float(0.5, min=0, max=1, doc="how far towards orange")})
    def tint(ctx, image, amount):
        """Pull the colours towards orange."""
        return image * (1 - amount) + np.array([1.0, 0.55, 0.1], np.float32) * amount

    small = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    big = np.random.default_rng(2).random((1, 400, 400, 3)).astype(np.float32)   # 1.9 MB
    g = af.Graph(seed=1)
    g.add("image.save", image=g.add("my.tint", image=small, amount=0.4), path="small.png")
    print(g.run(output_dir="out"))
    h = af.Graph(seed=1)
    h.add("image.save", image=h.add("color.invert", image=big), path="big.png")
    print(h.run(output_dir="out"))
''')


def _artflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARTFLOW_CACHE=str(cwd / "cache"))
    return subprocess.run([str(Path(sys.executable).parent / "artflow"), *args],
                          cwd=cwd, capture_output=True, text=True, env=env)


def test_a_sketch_node_and_a_numpy_input_run_and_the_png_says_what_it_needs(tmp_path: Path):
    (tmp_path / "tint_sketch.py").write_text(SKETCH)
    env = dict(os.environ, ARTFLOW_CACHE=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "tint_sketch.py"], cwd=tmp_path, check=True, env=env,
                   capture_output=True, text=True)
    small = read_provenance(tmp_path / "out" / "small.png")
    assert small["sketch_nodes"] == {"my.tint": "tint_sketch.py"}
    (sha_small, embedded), = small["arrays"].items()
    assert embedded  # under 1 MB: carried inside the PNG
    node = next(n for n in small["graph"]["nodes"].values() if n["type"] == "const.image")
    assert node["params"]["sha256"] == sha_small
    big = read_provenance(tmp_path / "out" / "big.png")
    (sha_big, carried), = big["arrays"].items()
    assert carried is None  # over 1 MB: referred to by hash

    # elsewhere, without the sketch: one line naming the script to run
    proc = _artflow("run", str(tmp_path / "out" / "small.png"), "-o", "again", cwd=tmp_path)
    assert proc.returncode == 2
    assert "my.tint" in proc.stderr and "tint_sketch.py" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

    # the big array is neither embedded nor beside the picture: the error names the file
    proc = _artflow("run", str(tmp_path / "out" / "big.png"), "-o", "again", cwd=tmp_path)
    assert proc.returncode == 2 and f"{sha_big}.npy" in proc.stderr

    # with the array beside it, the picture renders again
    code = textwrap.dedent(f'''
        import numpy as np
        from artflow.sketch import content_sha256, npy_bytes
        big = np.random.default_rng(2).random((1, 400, 400, 3)).astype(np.float32)
        assert content_sha256(big) == {sha_big!r}
        open({str(tmp_path / "out" / f"{sha_big}.npy")!r}, "wb").write(npy_bytes(big))
    ''')
    subprocess.run([sys.executable, "-c", code], check=True)
    proc = _artflow("run", str(tmp_path / "out" / "big.png"), "-o", "again", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = json.loads(proc.stdout)
    assert any(v["status"] == "ran" for v in written["nodes"].values())
