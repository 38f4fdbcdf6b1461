"""Webhook accounts, looked up once per process and kept for a few seconds.

Every delivery names its account by slug; under load the same few accounts are read
hundreds of times a second, each read a query and the decryption of its credentials. A
process keeps what it read for `CAREMGR_ACCOUNT_CACHE_SECONDS`. A change made in this
process (the admin) is seen at once through `forget_accounts()`; other processes see it
when their copy expires. A signature that fails against a kept copy is checked once more
against the stored row (`active_account(..., fresh=True)`), so a rotated secret works at
once everywhere; only a retired secret stays accepted until the copy expires.
"""

import threading
import time

from django.conf import settings

from inbox.models import Account

# (platform, slug) -> (when it was read, the account)
_kept: dict[tuple[str, str], tuple[float, Account]] = {}
_lock = threading.Lock()


def active_account(platform: str, slug: str, *, fresh: bool = False) -> Account | None:
    """The active account of `platform` with `slug`, or None; `fresh` reads the database.

    Unknown and inactive accounts are not kept: a new account works at its first delivery.
    The returned instance is shared between requests and must not be changed.
    """
    key = (platform, slug)
    now = time.monotonic()
    if not fresh:
        kept = _kept.get(key)
        if kept is not None and now - kept[0] < settings.CAREMGR_ACCOUNT_CACHE_SECONDS:
            return kept[1]
    account = Account.objects.filter(platform=platform, slug=slug, is_active=True).first()
    with _lock:
        if account is None:
            _kept.pop(key, None)
        else:
            _kept[key] = (now, account)
    return account


def forget_accounts() -> None:
    """Drop every kept account of this process (after an account was changed or deleted)."""
    with _lock:
        _kept.clear()
