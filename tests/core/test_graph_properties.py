"""Property tests: any graph the API can build survives JSON and keys are stable."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from artflow.graph import Graph

ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,8}", fullmatch=True)
scalars = st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.text(max_size=10), st.booleans(), st.none())
params = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True),
                         st.one_of(scalars, st.lists(scalars, max_size=4)), max_size=4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(ids, params), min_size=1, max_size=6, unique_by=lambda t: t[0]),
       st.integers(0, 2**31), st.data())
def test_any_graph_round_trips_through_json(nodes, seed, data):
    g = Graph(seed=seed)
    made = []
    for node_id, p in nodes:
        inputs = {}
        if made and data.draw(st.booleans()):
            src = data.draw(st.sampled_from(made))
            inputs["image"] = g.node(src) if data.draw(st.booleans()) else g.node(src)["out"]
        g.add("some.type", node_id, **p, **inputs)
        made.append(node_id)
    text = g.to_json()
    again = Graph.from_json(text)
    assert again.to_dict() == g.to_dict() == json.loads(text)
