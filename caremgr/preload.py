"""What a server process loads before its first request, then leaves out of the collector's
full passes.

The application, its URLs and every view last as long as the process. Left to the
collector, a full pass walks them all again, over 100,000 objects (56 ms in a web process
under `bench/peer_helpdesk.py --deployment scale`), and every request of the process waits
through it. Frozen, a full pass walks only what came after.
"""

import gc

from django.urls import get_resolver


def load_and_freeze() -> None:
    """Import every view, then freeze what is loaded (again, harmlessly, if it was)."""
    get_resolver().url_patterns  # noqa: B018 -- imports every view
    gc.freeze()
