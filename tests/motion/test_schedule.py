"""Schedules as plain data: easings match their formulas, curves are validated against the param."""

from __future__ import annotations

import json
import math

import pytest
import tomllib

import artflow as af
from artflow.params import Color, File, Float, Floats, Int, Model, Str
from artflow.schedule import EASINGS, Curve, bezier, ease_fn

POINTS = (0.1, 0.3, 0.5, 0.7, 0.9)
FORMULAS = {
    "linear": lambda t: t,
    "in_quad": lambda t: t * t,
    "out_quad": lambda t: 1 - (1 - t) ** 2,
    "in_out_quad": lambda t: 2 * t * t if t < 0.5 else 1 - (-2 * t + 2) ** 2 / 2,
    "in_cubic": lambda t: t ** 3,
    "out_cubic": lambda t: 1 - (1 - t) ** 3,
    "in_out_cubic": lambda t: 4 * t ** 3 if t < 0.5 else 1 - (-2 * t + 2) ** 3 / 2,
    "in_sine": lambda t: 1 - math.cos(t * math.pi / 2),
    "out_sine": lambda t: math.sin(t * math.pi / 2),
    "in_out_sine": lambda t: -(math.cos(math.pi * t) - 1) / 2,
    "in_expo": lambda t: 2 ** (10 * t - 10),
    "out_expo": lambda t: 1 - 2 ** (-10 * t),
    "in_out_expo": lambda t: 2 ** (20 * t - 10) / 2 if t < 0.5 else (2 - 2 ** (-20 * t + 10)) / 2,
    "step": lambda t: 0.0,
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_each_easing_matches_its_penner_formula_at_five_points(name: str) -> None:
    for t in POINTS:
        assert EASINGS[name](t) == pytest.approx(FORMULAS[name](t), abs=1e-12), (name, t)
    assert EASINGS[name](0.0) == pytest.approx(0.0) and EASINGS[name](1.0) == pytest.approx(1.0)


def test_every_named_easing_is_covered_by_a_formula() -> None:
    assert set(EASINGS) == set(FORMULAS)


def test_cubic_bezier_matches_the_css_curve_at_five_points() -> None:
    # CSS 'ease' is cubic-bezier(0.25, 0.1, 0.25, 1); check x(s) = t, y(s) by the Bernstein form
    f = ease_fn("cubic-bezier(0.25, 0.1, 0.25, 1)")
    for s in POINTS:
        x = 3 * (1 - s) ** 2 * s * 0.25 + 3 * (1 - s) * s * s * 0.25 + s ** 3
        y = 3 * (1 - s) ** 2 * s * 0.1 + 3 * (1 - s) * s * s * 1.0 + s ** 3
        assert f(x) == pytest.approx(y, abs=1e-9)
    assert bezier(0, 0, 1, 1)(0.37) == pytest.approx(0.37, abs=1e-9)  # the diagonal is linear


def test_keyframes_interpolate_with_loops() -> None:
    k = af.keyframes({0: 0.0, 10: 100.0})
    assert [k.at(f) for f in (0, 5, 10, 15)] == [0.0, 50.0, 100.0, 100.0]
    rep = af.keyframes({0: 0.0, 10: 100.0}, loop="repeat")
    assert [rep.at(f) for f in (10, 15, 20)] == [0.0, 50.0, 0.0]
    ping = af.keyframes({0: 0.0, 10: 100.0}, loop="pingpong")
    assert [ping.at(f) for f in (10, 15, 20, 25)] == [100.0, 50.0, 0.0, 50.0]


def test_waves_follow_their_shapes() -> None:
    assert af.wave("sine", period=8, amplitude=2, offset=1).at(2) == pytest.approx(3.0)
    assert [af.wave("saw", period=4, amplitude=1).at(f) for f in range(5)] == [0, 0.25, 0.5, 0.75, 0]
    assert [af.wave("triangle", period=4).at(f) for f in range(5)] == [0, 1, 0, -1, 0]
    wob = af.wobble(3, period=12, amplitude=5, offset=10)
    values = [wob.at(f) for f in range(200)]
    assert all(5 <= v <= 15 for v in values) and max(values) - min(values) > 2
    assert max(abs(a - b) for a, b in zip(values, values[1:], strict=False)) < 2  # smooth


def test_schedules_are_plain_json_and_toml_data() -> None:
    k = af.keyframes({0: 0, 48: 360}, ease="in_out_cubic", loop="repeat")
    again = json.loads(json.dumps(k))
    assert again == {"keyframes": {"0": 0, "48": 360}, "ease": "in_out_cubic", "loop": "repeat"}
    toml = tomllib.loads('angle = {keyframes = {"0" = 0, "48" = 360}, ease = "in_out_cubic"}')
    curve = Float(0, min=-360, max=360).validate("k", "image.kaleidoscope", "angle", toml["angle"])
    assert isinstance(curve, Curve) and curve.at(24) == pytest.approx(180.0)


def test_colour_keyframes_interpolate_in_rgb() -> None:
    black_white = af.keyframes({0: "black", 10: [255, 255, 255]})
    curve = Color("#000").validate("s", "generate.solid", "color", black_white)
    assert curve.at(3) == pytest.approx((0.3, 0.3, 0.3)) and len(curve.at(0)) == 3
    ints = Int(1, min=0, max=10).validate("n", "t", "count", af.keyframes({0: 0, 10: 10}))
    assert [ints.at(f) for f in (0, 4, 10)] == [0, 4, 10] and isinstance(ints.at(4), int)
    floats = Floats([0, 0], length=2).validate("n", "t", "xy", af.keyframes({0: [0, 1], 4: [4, 5]}))
    assert floats.at(2) == [2.0, 3.0]


@pytest.mark.parametrize(("param", "value", "words"), [
    (Float(0, min=-360, max=360), af.keyframes({0: 0, 48: 400}), "reaches 400 at frame 48"),
    (Float(0, min=0, max=100), af.keyframes({0: 0, 10: 100}, ease="cubic-bezier(0.3,-1,0.7,2)"),
     "outside what it allows"),
    (Float(0, min=0, max=1), af.wave("sine", amplitude=0.6, offset=0.5), "reaches -0.1"),
    (Float(0), {"keyframes": {"1.5": 0, "3": 1}}, "'1.5' is not a whole frame number"),
    (Float(0), {"keyframes": {"-2": 0}}, "'-2' is not a whole frame number"),
    (Float(0), {"keyframes": {0: 0, 5: "x"}}, "is not a number"),
    (Float(0), {"keyframes": {0: 0}, "ease": "bouncy"}, "unknown ease 'bouncy'"),
    (Color("#000"), af.keyframes({0: "black", 5: "nocolour"}), "is not a colour"),
    (Color("#000"), af.wave(), "takes keyframes"),
    (Str("a"), af.keyframes({0: 0, 5: 1}), "cannot take a schedule"),
    (File("a.png"), af.keyframes({0: 0, 5: 1}), "cannot take a schedule"),
    (Model("style", "glass"), af.wave(), "cannot take a schedule"),
])
def test_a_bad_schedule_is_one_line_naming_node_param_and_what_to_do(param, value, words) -> None:
    with pytest.raises(af.ParamError) as err:
        param.validate("k", "image.kaleidoscope", "angle", value)
    text = str(err.value)
    assert words in text and "node 'k' (image.kaleidoscope) param 'angle'" in text and "\n" not in text
