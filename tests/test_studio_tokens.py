"""Label Studio's tokens of today (issue 13): the session's server runs with Label Studio's own
settings (legacy tokens off) and every studio test connects with a personal access token; a
legacy token works where the organization has them; the token is never printed."""

from __future__ import annotations

import os
import shutil
import stat

import httpx
import pytest
from typer.testing import CliRunner

from conftest import ROOT, SEED_ID, STUDIO_PASSWORD, STUDIO_USER, studio_headers
from khabar.cli import app
from khabar.core.errors import StudioError
from khabar.studio.client import connect
from khabar.studio.tokens import key_kind

pytestmark = pytest.mark.studio


def _cli(args: list[str], server, key: str | None = None, root=None):
    env = {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": key or server.api_key,
           "LABEL_STUDIO_USERNAME": STUDIO_USER, "LABEL_STUDIO_PASSWORD": STUDIO_PASSWORD}
    return CliRunner().invoke(app, args + (["--root", str(root)] if root else []), env=env)


def test_the_server_has_legacy_tokens_off_and_push_pull_use_a_personal_access_token(project, studio_server, title) -> None:
    """`khabar studio push` and `pull` (the CLI, as a user runs them) with a personal access token
    against a server whose organization has legacy tokens off; the token appears in no output."""
    settings = httpx.get(f"{studio_server.url}/api/jwt/settings", headers=studio_headers(studio_server), timeout=60).json()
    assert settings == {"api_tokens_enabled": True, "legacy_api_tokens_enabled": False}
    assert key_kind(studio_server.api_key) == "personal"
    shutil.copytree(ROOT / "annotations" / SEED_ID, project.annotations / SEED_ID)
    shutil.copy(ROOT / "annotations" / "GUIDELINES.md", project.annotations / "GUIDELINES.md")
    pushed = _cli(["studio", "push", "--project", title, "--annotations", "gold", "-q"], studio_server, root=project.root)
    assert pushed.exit_code == 0, pushed.output
    pulled = _cli(["studio", "pull", "--project", title, "-q"], studio_server, root=project.root)
    assert pulled.exit_code == 0, pulled.output
    me = connect(studio_server.url, studio_server.api_key)
    assert me.key_kind == "personal"
    back = project.annotations / SEED_ID / f"ls-{me.user_id}.json"
    assert back.is_file() and len(__import__("json").loads(back.read_text(encoding="utf-8"))["entities"]) == 140
    for out in (pushed.output, pulled.output):
        assert studio_server.api_key not in out and studio_server.api_key[-20:] not in out


def test_a_legacy_token_is_refused_with_a_hint_then_works_where_the_organization_has_them(project, studio_server, title) -> None:
    headers = studio_headers(studio_server)
    legacy = httpx.get(f"{studio_server.url}/api/current-user/token", headers=headers, timeout=60).json()["token"]
    assert key_kind(legacy) == "legacy"
    with pytest.raises(StudioError, match=r"refused the API key \(a legacy token\) \(HTTP 401: .*legacy token authentication "
                                          r"has been disabled") as err:
        connect(studio_server.url, legacy)
    assert legacy not in str(err.value) and "personal access tokens, not legacy ones" in (err.value.hint or "")
    assert "khabar studio token --out FILE" in err.value.hint
    on = httpx.post(f"{studio_server.url}/api/jwt/settings", headers=headers, timeout=60,
                    json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True})
    assert on.status_code in (200, 201), on.text
    try:
        studio = connect(studio_server.url, legacy)
        assert studio.key_kind == "legacy"
        res = _cli(["studio", "push", "--project", title, "-q"], studio_server, key=legacy, root=project.root)
        assert res.exit_code == 0 and legacy not in res.output, res.output
        assert len(list(studio.iter_tasks(studio.find_project(title).id))) == 1
    finally:
        off = httpx.post(f"{studio_server.url}/api/jwt/settings", headers=studio_headers(studio_server), timeout=60,
                         json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": False})
        assert off.status_code in (200, 201), off.text


def test_studio_token_makes_a_personal_access_token_into_a_private_file(studio_server, tmp_path) -> None:
    """One token per user: with one already made, `khabar studio token` says so; after revoking
    it, it makes a new one into a 0600 file and prints only where it is."""
    out = tmp_path / "pat"
    res = _cli(["studio", "token", "--out", str(out)], studio_server)
    assert res.exit_code == 1 and "already has a personal access token" in res.output and not out.exists(), res.output
    old = studio_server.api_key
    revoked = httpx.post(f"{studio_server.url}/api/token/blacklist/", json={"refresh": old},
                         headers=studio_headers(studio_server), timeout=60)
    assert revoked.status_code in (200, 204), revoked.text
    res = _cli(["studio", "token", "--out", str(out)], studio_server)
    assert res.exit_code == 0, res.output
    token = out.read_text(encoding="ascii").strip()
    studio_server.api_key = token  # the session's key from now on
    assert key_kind(token) == "personal" and token not in res.output
    assert res.output.strip() == (f"wrote a personal access token for {STUDIO_USER} on {studio_server.url} to {out} (mode 0600); "
                                  f"use it with: export LABEL_STUDIO_API_KEY=$(cat {out})")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert connect(studio_server.url, token).key_kind == "personal"
    with pytest.raises(StudioError, match="refused the personal access token") as err:
        connect(studio_server.url, old)
    assert "revoked, expired, or belongs to another server" in (err.value.hint or "") and old not in str(err.value)
    again = _cli(["studio", "token", "--out", str(out)], studio_server)
    assert again.exit_code == 1 and f"{out}: exists; a token file is never overwritten" in again.output
    assert out.read_text(encoding="ascii").strip() == token


def test_an_expired_personal_access_token_is_refused_before_any_request(studio_server) -> None:
    # a refresh token whose exp lies in 1970 (header.payload.signature; the signature is never checked here)
    expired = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTAwMH0.c2lnbmF0dXJl"
    with pytest.raises(StudioError, match=r"^LABEL_STUDIO_API_KEY is a personal access token that cannot be used "
                                          r"\(HTTP 401: API key has expired"):
        connect(studio_server.url, expired)
