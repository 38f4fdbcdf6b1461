"""Platform payloads as the platforms document them, and the requests that carry them."""

import json

from django.test import TestCase


def encode(payload) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def post_processed(client, path: str, body: bytes, **headers):
    """POST like a platform and run what the view schedules after commit, as production does.

    Tests run inside a transaction that never commits, so the hand-over is captured and run.
    """
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, body, content_type="application/json", **headers)
