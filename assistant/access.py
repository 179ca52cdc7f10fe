"""Who may use the app when it leaves loopback: users and PBKDF2 password hashes from a file.

The file holds one ``user:pbkdf2_sha256$iterations$salt$hash`` line per user (``#`` starts a
comment). Make a line with ``python app.py --hash-password``; keep the file out of the repo.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from assistant.errors import AssistantError

_ITERATIONS = 310_000  # OWASP's figure for PBKDF2-HMAC-SHA256


class AccessError(AssistantError):
    """The app cannot start safely with these access settings."""


def hash_password(password: str, iterations: int = _ITERATIONS) -> str:
    salt = os.urandom(16).hex()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def load_users(path: Path) -> dict[str, str]:
    """user -> stored hash; AccessError naming the fix for a missing or malformed file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise AccessError(f"cannot read the users file {path} ({e.strerror})") from None
    users: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, stored = line.partition(":")
        if not sep or not user or not stored.startswith("pbkdf2_sha256$"):
            raise AccessError(
                f"{path} line {number} is not 'user:pbkdf2_sha256$...': make lines with "
                "`python app.py --hash-password`"
            )
        users[user] = stored
    if not users:
        raise AccessError(f"{path} lists no users: add one with `python app.py --hash-password`")
    return users


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authenticator(host: str, users_file: Path | None) -> Callable[[str, str], bool] | None:
    """None on loopback without a users file; a check function otherwise. Binding any other
    address without a users file is refused: the app would serve anyone on the network."""
    if users_file is None:
        if is_loopback(host):
            return None
        raise AccessError(
            f"refusing to serve on {host} without a login: set app.users_file "
            "(ASSISTANT_APP__USERS_FILE) to a file of users made with `python app.py "
            "--hash-password`, or bind 127.0.0.1"
        )
    users = load_users(users_file)

    def check(user: str, password: str) -> bool:
        stored = users.get(user)
        return stored is not None and verify_password(password, stored)

    return check
