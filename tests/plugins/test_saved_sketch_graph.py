"""A graph saved from a sketch with an inline node names that sketch when it runs elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SKETCH = """
    import numpy as np
    import artflow as af


    @af.node("my.tint", category="color", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE})
    def tint(ctx, image):
        \"\"\"Warm the image.\"\"\"
        return np.clip(image * np.array([1.1, 1.0, 0.9], np.float32), 0, 1)


    g = af.Graph(seed=1)
    g.add("image.save", image=g.add("my.tint", image=g.add("generate.gradient", width=8, height=8)),
          path="t.png")
    g.save("tint_graph.json")
"""


def test_an_unknown_node_type_in_a_saved_graph_names_the_sketch_it_came_from(artflow_cli, tmp_path: Path):
    (tmp_path / "tint_sketch.py").write_text(textwrap.dedent(SKETCH))
    subprocess.run([sys.executable, "tint_sketch.py"], cwd=tmp_path, check=True, capture_output=True)
    saved = json.loads((tmp_path / "tint_graph.json").read_text())
    assert saved["meta"]["sketch_nodes"] == {"my.tint": "tint_sketch.py"}
    proc = artflow_cli("run", "tint_graph.json", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2 and not (tmp_path / "out").exists()
    assert proc.stderr.strip() == ("error: the graph tint_graph.json was made with node type(s) my.tint "
                                   "defined in the sketch tint_sketch.py; run that sketch in this process "
                                   "(or import it) to register them, then render again")
