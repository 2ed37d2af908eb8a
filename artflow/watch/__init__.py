"""`artflow watch`: re-run a graph file or a sketch on every save and show the outputs live.

The persistent cache makes a re-run cheap: only nodes whose keys changed run again. The page is
served on 127.0.0.1 only and updated with server-sent events.
"""

from .session import WatchSession

__all__ = ["WatchSession"]
