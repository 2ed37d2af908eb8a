"""Small test nodes registered in a private registry, so engine tests don't depend on plugins."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

import artflow as af
from artflow.cache import Cache
from artflow.engine import Engine
from artflow.models import ModelRegistry
from artflow.plugins import PluginSet
from artflow.registry import NodeRegistry, TrainerRegistry

CALLS: dict[str, int] = {}
_lock = threading.Lock()


def _count(name: str) -> None:
    with _lock:
        CALLS[name] = CALLS.get(name, 0) + 1


@af.node("test.const", category="test", outputs={"image": af.IMAGE},
         params={"value": af.Float(0.5, min=0, max=1, doc="grey level"),
                 "size": af.Int(8, min=1, max=4096, doc="side")})
def const(ctx: af.NodeContext, value: float, size: int) -> np.ndarray:
    """A grey square."""
    _count("test.const")
    return np.full((1, size, size, 3), value, np.float32)


@af.node("test.add", category="test", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
         params={"amount": af.Float(0.1, min=-1, max=1, doc="added")})
def add(ctx: af.NodeContext, image: np.ndarray, amount: float) -> np.ndarray:
    """Add a constant."""
    _count("test.add")
    return np.clip(image + amount, 0, 1)


@af.node("test.noise", category="test", outputs={"image": af.IMAGE}, deterministic=False,
         params={"count": af.Int(2, min=1, max=64, doc="items")})
def noise(ctx: af.NodeContext, count: int) -> np.ndarray:
    """Random pixels from ctx.rng per item."""
    return np.stack([ctx.rng(i).random((4, 4, 3), dtype=np.float32) for i in range(count)])


@af.node("test.labels", category="test", inputs={"image": af.IMAGE}, outputs={"labels": af.LABELS})
def labels(ctx: af.NodeContext, image: np.ndarray) -> list[list[af.Label]]:
    """Label by brightness."""
    return [[af.Label("bright" if im.mean() > 0.5 else "dark", float(im.mean()))] for im in image]


@af.node("test.sleep", category="test", inputs={"image": af.In(af.IMAGE, optional=True)},
         outputs={"image": af.IMAGE}, params={"seconds": af.Float(0.3, min=0, max=10, doc="wait")})
def sleep(ctx: af.NodeContext, image: np.ndarray | None, seconds: float) -> np.ndarray:
    """Wait (releasing the GIL), then pass the image through."""
    time.sleep(seconds)
    return image if image is not None else np.zeros((1, 2, 2, 3), np.float32)


@af.node("test.fail", category="test", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE})
def fail(ctx: af.NodeContext, image: np.ndarray) -> np.ndarray:
    """Always raises."""
    raise ValueError("this node always fails")


@af.node("test.mode", category="test", outputs={"image": af.IMAGE},
         params={"mode": af.Choice(["a", "b"], "a", doc="a or b"),
                 "tint": af.Color("#ff8800", doc="tint")})
def mode(ctx: af.NodeContext, mode: str, tint: tuple[float, ...]) -> np.ndarray:
    """A tinted pixel."""
    return np.array(tint[:3], np.float32).reshape(1, 1, 1, 3)


TEST_NODES = [const, add, noise, labels, sleep, fail, mode]


def make_plugins(*specs: Any) -> PluginSet:
    import pluggy

    nodes = NodeRegistry()
    for spec in specs or TEST_NODES:
        nodes.add(spec, "tests")
    return PluginSet(pluggy.PluginManager("artflow"), nodes, ModelRegistry(), TrainerRegistry(), {})


@pytest.fixture
def plugins() -> PluginSet:
    return make_plugins()


@pytest.fixture
def engine(plugins: PluginSet, tmp_path: Any) -> Engine:
    CALLS.clear()
    return Engine(Cache(tmp_path / "cache"), plugins=plugins)
