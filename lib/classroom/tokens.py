"""Codes, tokens and keys: made with the `secrets` module, stored only as SHA-256 hashes, compared in constant time,
and whatever people type checked before it reaches a query (any length, any alphabet, SQL-looking text included).

A token is 192 random bits, so a plain SHA-256 is enough to store it (there is nothing to brute-force); the server's
teacher key is chosen by a person, so it is never stored at all: it is read from the environment and compared.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from lib.messages import Problem, msg

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector without mistakes
CODE_LENGTH = 6  # 31**6, about 890 million codes; guessing is slowed down besides (store.ClassStore.throttle)
NICKNAME_MAX = 40
SECRET_MAX = 200  # longer text is no token of ours: refused before it is hashed


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_token() -> str:
    """A token for a teacher or a student: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """The SHA-256 hex digest of a token: what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_secret(given: str | None, expected_digest: str) -> bool:
    """Whether `given` hashes to `expected_digest`, compared in constant time (hmac.compare_digest)."""
    if not isinstance(given, str) or not given or len(given) > SECRET_MAX:
        given = ""  # still hashed and compared: a wrong answer takes as long as a right one
    return hmac.compare_digest(digest(given), expected_digest) and bool(given)


def same_key(given: str | None, server_key: str) -> bool:
    """Whether `given` is the server's teacher key, in constant time whatever either's length (both are hashed
    first, so a key of any length, chosen by a person, is compared whole)."""
    given = given if isinstance(given, str) else ""
    return hmac.compare_digest(digest(given), digest(server_key or "")) and bool(server_key) and bool(given)


def clean_code(text) -> str:
    """A class code as typed (spaces, lower case, a dash) in its stored form; a Problem if it cannot be one."""
    code = "".join(str(text or "").split()).replace("-", "").upper() if isinstance(text, str) else ""
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise Problem(msg("class.bad_code", code=_shown(text), length=CODE_LENGTH, example="K7M3QD"))
    return code


def clean_token(text) -> str | None:
    """A token from a link, or None when it cannot be one of ours (so nothing is looked up with it)."""
    if not isinstance(text, str) or not 16 <= len(text) <= 64:
        return None
    return text if all(c.isascii() and (c.isalnum() or c in "-_") for c in text) else None


def clean_nickname(text) -> str | None:
    """A nickname as it will be stored: trimmed, Unicode-normalised, no control or invisible characters, at most
    NICKNAME_MAX characters; None for none. A Problem names what is wrong."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise Problem(msg("class.bad_nickname", n=NICKNAME_MAX))
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        return None
    if len(name) > NICKNAME_MAX or any(unicodedata.category(c)[0] == "C" for c in name):
        raise Problem(msg("class.bad_nickname", n=NICKNAME_MAX))
    return name


def _shown(text) -> str:
    """What a person typed, shortened and made printable, to quote it back in a message."""
    shown = "".join(c if c.isprintable() else "?" for c in str(text)[:24])
    return shown + ("…" if len(str(text)) > 24 else "")
