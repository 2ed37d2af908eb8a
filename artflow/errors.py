"""Errors a person can act on: each prints as one line naming the culprit and the fix."""

from __future__ import annotations


class ArtflowError(Exception):
    """Base of every error artflow raises on purpose; its message is one line for a person."""

    exit_code = 2


class GraphError(ArtflowError):
    """The graph is malformed: unknown node type, missing input, type mismatch, cycle."""


class ParamError(ArtflowError):
    """A node parameter has a value outside what the node declares."""


class NodeError(ArtflowError):
    """A node failed while running; names the node id, its type and the cause."""

    def __init__(self, node_id: str, node_type: str, cause: BaseException | str):
        self.node_id = node_id
        self.node_type = node_type
        self.cause = cause
        reason = cause if isinstance(cause, str) else describe(cause)
        super().__init__(f"node '{node_id}' ({node_type}) failed: {reason}")


class ModelError(ArtflowError):
    """A model is missing, unreadable, tampered with, or does not fit the node."""


class PluginError(ArtflowError):
    """A plugin could not be installed, loaded or used."""


class ImageError(ArtflowError):
    """An image file is missing, corrupt or too large."""


class PathError(ArtflowError):
    """An output path is empty, absolute, or leaves its output folder."""


class SettingError(ArtflowError):
    """An ``ARTFLOW_*`` setting (environment or config file) has a value artflow cannot use."""


def describe(exc: BaseException, *, with_type: bool = True) -> str:
    """One line for a person: an ArtflowError's message, else ``Type: first line`` of the
    exception (just the first line with ``with_type=False``)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, ArtflowError) or (first and not with_type):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
