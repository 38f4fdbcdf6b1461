"""Credentials are stored encrypted: a database dump or backup never holds a usable secret.

Fernet (AES-128-CBC with HMAC-SHA256) with the keys of `CAREMGR_SECRET_KEYS`: the first
encrypts, every one decrypts, so a new key goes first, `rotate_secrets` re-encrypts every row
and only then the old key is removed. Without it the key is derived from `SECRET_KEY`, and
`SECRET_KEY_FALLBACKS` still decrypt, so `make run` needs no configuration.
"""

import base64
import binascii
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models


class CredentialUnreadable(ImproperlyConfigured):
    """A stored credential that none of the configured keys decrypts."""


@lru_cache(maxsize=8)
def derived_key(secret_key: str) -> str:
    """A Fernet key that follows from SECRET_KEY, for installations that set no key."""
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"caremgr credentials at rest"
    ).derive(secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(raw).decode("ascii")


def configured_keys() -> tuple[str, ...]:
    """The keys in use, the one that encrypts first."""
    if settings.CAREMGR_SECRET_KEYS:
        return tuple(settings.CAREMGR_SECRET_KEYS)
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", [])
    return tuple(derived_key(key) for key in [settings.SECRET_KEY, *fallbacks])


def check_keys() -> None:
    """Refuse to start with a CAREMGR_SECRET_KEYS entry that is not a Fernet key."""
    for position, key in enumerate(settings.CAREMGR_SECRET_KEYS, start=1):
        try:
            Fernet(key)
        except (ValueError, binascii.Error):
            raise ImproperlyConfigured(
                f"CAREMGR_SECRET_KEYS entry {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from None


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plain: str) -> str:
    return _cipher(configured_keys()).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    return _decrypted(configured_keys(), token)


# Each webhook's account is read with its credentials, and decrypting them cost 3.5 % of
# processing a delivery: what a token gives is kept, per set of keys (a removed key no
# longer decrypts what it alone could), for the few accounts an installation has.
@lru_cache(maxsize=256)
def _decrypted(keys: tuple[str, ...], token: str) -> str:
    try:
        return _cipher(keys).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise CredentialUnreadable(
            "a stored credential cannot be decrypted with the configured keys: keep the old "
            "key in CAREMGR_SECRET_KEYS (or SECRET_KEY_FALLBACKS) until rotate_secrets has run"
        ) from None


def is_encrypted(value: str) -> bool:
    """Whether a stored value already decrypts with the configured keys."""
    try:
        decrypt(value)
    except CredentialUnreadable:
        return False
    return True


class EncryptedTextField(models.TextField):
    """A text field whose value is encrypted in the column and plain in Python.

    Each write makes a different ciphertext, so the column cannot be searched: lookups other
    than `isnull` are refused rather than silently matching nothing. An empty value stays
    empty (it reveals only that no credential is set).
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} is stored encrypted and cannot be searched")
        return super().get_lookup(lookup_name)


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
