"""Who made a Label Studio annotation, as a pseudonymous annotator id.

Label Studio knows its users by id and e-mail; Khabar's files name annotators by a pseudonym:
``ls-<user id>`` by default, or the id an annotator map gives (``.labelstudio/annotator-map.json``:
e-mail or user id -> pseudonym). E-mail addresses are used only to look a user up, never written.

Public API: :func:`load_annotator_map`, :func:`annotation_user`, :func:`draft_user`,
:func:`pseudonym`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from khabar.core.errors import InputError
from khabar.core.jsonio import load_json
from khabar.core.project import DRAFT_SUFFIX, GOLD, PREANNOTATOR
from khabar.studio.client import Studio

__all__ = ["load_annotator_map", "annotation_user", "draft_user", "pseudonym"]

_ANNOTATOR_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_RESERVED = {GOLD.removesuffix(".json"), PREANNOTATOR.removesuffix(".json")}


def load_annotator_map(path: Path | None) -> dict[str, str]:
    """An annotator map: JSON object from Label Studio e-mail (or user id) to pseudonymous id.

    Returns:
        The map; ``{}`` when ``path`` is None or does not exist.

    Raises:
        InputError: not a JSON object of strings; a pseudonym that is not an AnnotatorId (so never
            an e-mail address), is reserved (``gold``, ``preannotator``), could be taken for a
            default id (``ls-<n>``) or a draft (``*.draft``), or is given to two users.
    """
    if path is None or not Path(path).exists():
        return {}
    data = load_json(path)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(f"{path}: an annotator map is a JSON object from e-mail (or user id) to pseudonymous id")
    seen: dict[str, str] = {}
    for k, v in data.items():
        if not _ANNOTATOR_ID.fullmatch(v) or v in _RESERVED or re.fullmatch(r"ls-[0-9]+", v) or v.endswith(DRAFT_SUFFIX):
            raise InputError(f"{path}: {v!r} (for one user) is not a usable annotator id: lower-case letters, digits, "
                             f"'_', '.', '-'; not {sorted(_RESERVED)}, not ls-<number> (the default ids), not ending in .draft")
        if v in seen:
            raise InputError(f"{path}: annotator id {v!r} is given to two users")
        seen[v] = k
    return dict(data)


def annotation_user(a: dict[str, Any]) -> int | None:
    """The user id of an exported or listed annotation: its ``completed_by`` (a user id, or an
    object with one); None when it names none."""
    c = a.get("completed_by")
    if isinstance(c, dict):
        c = c.get("id")
    return c if type(c) is int else None


def draft_user(d: dict[str, Any], studio: Studio, emails: dict[int, str]) -> int | None:
    """The user id of a draft: Label Studio gives ``user`` as an e-mail and ``created_username``
    as ``"<e-mail>, <id>"``; the e-mail is used only to find the id.

    Args:
        d: the draft as listed with its task.
        studio: the connection (asked for its users only when the draft names no id).
        emails: user id -> e-mail, filled from the server on first need (a cache shared by calls).

    Returns:
        The user id, or None when no user matches.
    """
    if isinstance(d.get("user"), int):
        return d["user"]
    tail = str(d.get("created_username") or "").rsplit(",", 1)[-1].strip()
    if tail.isdigit():
        return int(tail)
    if not emails:
        emails.update(studio.users())
    return next((i for i, e in emails.items() if e == d.get("user")), None)


def pseudonym(user_id: int, emails: dict[int, str], amap: dict[str, str]) -> str:
    """The annotator id of Label Studio user ``user_id``: the annotator map's entry for the user
    id or e-mail (``emails``: user id -> e-mail), else ``ls-<user id>``."""
    if amap:
        for key in (str(user_id), emails.get(user_id, "")):
            if key in amap:
                return amap[key]
    return f"ls-{user_id}"
