"""Label Studio API keys: personal access tokens and legacy tokens.

Since Label Studio 1.17 a new organization has *personal access tokens* on and *legacy tokens*
off (``label_studio/jwt_auth/models.py``, ``JWTSettings``). A personal access token is a JWT
refresh token, shown once when made; a client exchanges it for short-lived access tokens
(``POST /api/token/refresh/``) and sends ``Authorization: Bearer <access>``. A legacy token is
sent as ``Authorization: Token <key>``. ``label-studio-sdk`` (2.x) tells the two apart and
refreshes access tokens itself, so :func:`khabar.studio.client.connect` takes either as
``LABEL_STUDIO_API_KEY``.

This module logs the admin in the way the web page does (Django session, CSRF token) to check a
password and to make a personal access token for it. A token is never printed or logged: it is
returned, or written to a file only its owner can read.

Public API: :func:`key_kind`, :func:`login`, :func:`create_personal_access_token`,
:func:`check_token_file`, :func:`write_token_file`.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from khabar.core.errors import InputError, StudioError

__all__ = ["key_kind", "login", "create_personal_access_token", "check_token_file", "write_token_file"]


def key_kind(key: str) -> str:
    """``"personal"`` for a JWT refresh token (a personal access token), ``"access"`` for a JWT
    access token, ``"legacy"`` for anything else. The JWT is decoded without checking its
    signature (the server does that)."""
    parts = key.split(".")
    if len(parts) != 3:
        return "legacy"
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return "legacy"
    kind = payload.get("token_type") if isinstance(payload, dict) else None
    return {"refresh": "personal", "access": "access"}.get(kind, "legacy")


def login(url: str, email: str, password: str, timeout: float = 30.0) -> Any:
    """An ``httpx.Client`` on ``url`` holding a logged-in session of ``email``, as the login page
    makes it (``GET /user/login/`` for the CSRF cookie, then the form ``POST``).

    Raises:
        StudioError: the server cannot be reached, or refuses the e-mail and password (the login
            page comes back instead of a redirect).
    """
    import httpx

    from khabar.studio.client import seconds_setting

    timeout = seconds_setting("KHABAR_STUDIO_TIMEOUT", timeout)
    client = httpx.Client(base_url=url.rstrip("/"), follow_redirects=False, timeout=httpx.Timeout(timeout, connect=10.0))
    try:
        client.get("/user/login/")
        answer = client.post("/user/login/", data={"email": email, "password": password,
                                                   "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")},
                             headers={"Referer": f"{url.rstrip('/')}/user/login/"})
    except (httpx.ConnectError, httpx.ConnectTimeout) as err:
        client.close()
        raise StudioError(f"cannot connect to Label Studio at {url} to log in ({type(err).__name__})",
                          hint="is it running, at this address? `khabar studio serve`, or check LABEL_STUDIO_URL") from None
    except (httpx.ReadTimeout, httpx.WriteTimeout) as err:
        client.close()
        raise StudioError(f"Label Studio at {url} took the connection but gave no answer within {timeout:.0f} s ({type(err).__name__})",
                          hint="the server is stuck or overloaded: see its log; raise KHABAR_STUDIO_TIMEOUT (seconds)") from None
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        client.close()
        raise StudioError(f"logging in to Label Studio at {url} failed ({type(err).__name__})",
                          hint="check LABEL_STUDIO_URL: the server's address, e.g. http://127.0.0.1:8080") from None
    if answer.status_code >= 500:
        client.close()
        raise StudioError(f"logging in to Label Studio at {url}: server error (HTTP {answer.status_code})",
                          hint="Label Studio failed on its side: see its log (.labelstudio/server.log for `khabar studio serve`)")
    if answer.status_code == 404:
        client.close()
        raise StudioError(f"{url} has no Label Studio login page (HTTP 404)",
                          hint="check LABEL_STUDIO_URL: the server's address without a path")
    if answer.status_code != 302 or "/user/login" in answer.headers.get("location", ""):
        client.close()
        raise StudioError(f"Label Studio at {url} refuses the login of {email} (HTTP {answer.status_code})",
                          hint="check LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD")
    return client


def create_personal_access_token(url: str, email: str, password: str) -> str:
    """Make a personal access token for ``email`` (``POST /api/token/`` in a logged-in session) and
    return it. Label Studio keeps one per user and shows it once.

    Raises:
        StudioError: the login fails (:func:`login`); the user already has a personal access
            token (HTTP 409: revoke it in Account & Settings first); personal access tokens are
            off for the organization; any other refusal.
    """
    client = login(url, email, password)
    try:
        answer = client.post("/api/token/", headers={"X-CSRFToken": client.cookies.get("csrftoken", ""), "Referer": url})
    finally:
        client.close()
    if answer.status_code == 409:
        raise StudioError(f"{email} already has a personal access token on {url}; Label Studio shows a token only once",
                          hint="use the one you saved, or revoke it (Account & Settings -> Personal Access Token) and run this again")
    if answer.status_code in (401, 403):
        raise StudioError(f"Label Studio at {url} refuses to make a personal access token for {email} (HTTP {answer.status_code})",
                          hint="an organization admin can turn personal access tokens on: Organization -> Settings -> Access Token Settings")
    try:
        token = answer.json()["token"]
    except (ValueError, KeyError, TypeError):
        raise StudioError(f"Label Studio at {url} answered POST /api/token/ with HTTP {answer.status_code} and no token",
                          hint="make one in the web page: Account & Settings -> Personal Access Token") from None
    if not isinstance(token, str) or key_kind(token) != "personal":
        raise StudioError(f"Label Studio at {url} gave something that is not a personal access token")
    return token


def check_token_file(path: Path) -> None:
    """Check, before a token is made, that ``path`` can take it: it does not exist and its folder
    exists (or can be made) and can be written (a probe file is made and removed).

    Raises:
        InputError: it exists; its folder is a file, or cannot be made or written.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise InputError(f"{path}: exists; a token file is never overwritten", hint="remove it, or name another file with --out")
    if any(p.exists() and not p.is_dir() for p in path.parents):
        raise InputError(f"{path}: {next(p for p in path.parents if p.exists() and not p.is_dir())} is a file, not a folder",
                         hint="name a file in a folder you can write to; no token was made")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise InputError(f"{path}: cannot write the token file there: {err.strerror}",
                         hint="name a file in a folder you can write to; no token was made") from None


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` (and a newline) to ``path``, readable by its owner only (mode 0600), atomically.

    Raises:
        InputError: ``path`` exists (a token file is never overwritten), or cannot be written.
    """
    path = Path(path)
    if path.exists():
        raise InputError(f"{path}: exists; a token file is never overwritten", hint="remove it, or name another file with --out")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(token + "\n")
        os.replace(tmp, path)
    except OSError as err:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise InputError(f"{path}: cannot write the token file: {err.strerror}",
                         hint="the token was made: revoke it in Account & Settings -> Personal Access Token, then run "
                              "this again with a file you can write") from None
