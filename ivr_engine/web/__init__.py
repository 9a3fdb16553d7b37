"""The HTTP edge: Starlette routes and middleware that call the runtime and the store.

Nothing below this package knows about HTTP; nothing here decides what a call does.
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
