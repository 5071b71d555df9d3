"""Python's cycle collector paused while a server process loads the app (issue 18, item 6).

Loading every area creates about 250,000 long-lived objects (modules, classes, routes, schemas)
and almost no garbage, yet the collector walks the growing heap hundreds of times meanwhile:
about a fifth of `serve`'s start-up CPU. `loading()` pauses it, then freezes what was built
(`gc.freeze()`: never walked again, so later collections while serving are short too) and
resumes it. The few cycles left over from loading (about a thousand objects) stay frozen.
Only server processes use it: a test process builds many apps and must get them back.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    """Pause the cycle collector for the block, then freeze what it built and resume."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
