"""Gallery rendering: a TOML spec (graph × matrix of params) → jobs → images, manifest, index.html.

    from artflow.gallery import load_spec, render
    spec = load_spec("gallery/showcase.toml")
    summary = render(spec, "build/showcase", workers=2)

Backends: a local process pool (default) and Ray Data (`backend="ray"`). Ray and ONNX Runtime are
imported only when a render needs them.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "GallerySpec": ("artflow.gallery.spec", "GallerySpec"),
    "SpecError": ("artflow.gallery.spec", "SpecError"),
    "load_spec": ("artflow.gallery.spec", "load_spec"),
    "Job": ("artflow.gallery.jobs", "Job"),
    "expand_jobs": ("artflow.gallery.jobs", "expand_jobs"),
    "render": ("artflow.gallery.renderer", "render"),
    "RenderSummary": ("artflow.gallery.renderer", "RenderSummary"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'artflow.gallery' has no attribute {name!r}")


__all__ = sorted(_LAZY)
