"""Label Studio results -> Khabar annotation items (the pull direction).

:func:`results_to_annotation` reads a result list (:func:`khabar.studio.parse.parse_results`:
spans verified against the task's text, choices and relations joined to their regions), then
gives each relation its role from its label and the kinds of the regions it joins, and builds
the schema's entities, claims and stances. Offsets are Unicode code points, half-open
``[start, end)`` into the task's ``text``.

Public API: :func:`results_to_annotation`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from khabar.studio.config import Scheme
from khabar.studio.parse import ConversionError, Parsed, Region, parse_results

__all__ = ["results_to_annotation"]

_ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_ROLE_KINDS = {"source": ("content", "entity"), "cue": ("content", "cue"), "holder": ("stance", "entity"),
               "evidence": ("stance", "content")}

_Links = dict[str, dict[str, list[str]]]  # region id -> role -> region ids it points to


def results_to_annotation(result: Any, text: str, scheme: Scheme, where: str) -> tuple[dict[str, list[Any]], list[str]]:
    """Convert one Label Studio annotation's results into schema items.

    Args:
        result, text, scheme, where: as for :func:`khabar.studio.parse.parse_results`.

    Returns:
        ``({"entities": [...], "claims": [...], "stances": [...]}, warnings)``, items in result
        order, spans verified against ``text``. A relation's role comes from its label and the
        kinds of its two regions, whichever way the arrow was drawn (case 06).

    Raises:
        ConversionError: every problem of :func:`parse_results`, plus: a relation with no label,
            an unknown label, or between regions of the wrong kinds; a claim with two sources or a
            gap in its ``via-k`` chain; a cue region linked to no claim; a stance with no holder or
            no stance label.
    """
    parsed = parse_results(result, text, scheme, where)
    regions = parsed.regions
    problems: list[str] = []
    ids = _item_ids(regions, where, problems)
    links = _links(parsed, scheme, where, problems)
    entities = [{"id": ids[g.id], "start": g.start, "end": g.end, "text": g.text, "type": scheme.entity_types[g.label]}
                for g in regions.values() if g.kind == "entity"]
    claims, cues_used = _claims(regions, links, ids, scheme, where, problems)
    _check_cues_and_choices(regions, cues_used, scheme, where, problems)
    stances = _stances(regions, links, ids, scheme, where, problems)
    if problems:
        raise ConversionError(problems)
    return {"entities": entities, "claims": claims, "stances": stances}, parsed.warnings


def _item_id(rid: str) -> str:
    """A schema ItemId for a Label Studio region id: kept when it is one; otherwise (UI ids may
    start with ``_`` or ``-``, hand-made ones hold spaces or Arabic) ``r`` + a short hash of it,
    so distinct region ids stay distinct."""
    if _ITEM_ID.fullmatch(rid):
        return rid
    return "r" + hashlib.sha256(rid.encode("utf-8")).hexdigest()[:12]


def _item_ids(regions: dict[str, Region], where: str, problems: list[str]) -> dict[str, str]:
    """Region id -> item id (:func:`_item_id`); a region whose new id another region has is a problem."""
    ids = {rid: _item_id(rid) for rid in regions}
    clash = {v for v in ids.values() if list(ids.values()).count(v) > 1} if len(set(ids.values())) < len(ids) else set()
    for rid, iid in ids.items():
        if iid in clash and iid != rid:
            problems.append(f"{where}, region {rid}: its id becomes {iid!r}, which another region has")
    return ids


def _links(parsed: Parsed, scheme: Scheme, where: str, problems: list[str]) -> _Links:
    """Each relation as a link from its head region (content or stance) to its tail, by role; the
    role comes from the label, the direction from the kinds of the two regions."""
    regions = parsed.regions
    links: _Links = {rid: {} for rid in regions}
    for rel in parsed.relations:
        here = f"{where}, relation {rel.from_id}->{rel.to_id}"
        if len(rel.labels) != 1:
            problems.append(f"{here}: a relation needs exactly one label of {list(scheme.relations)}, got {rel.labels!r}")
            continue
        role = scheme.relations.get(rel.labels[0])
        if role is None:
            problems.append(f"{here}: label-unknown: relation label {rel.labels[0]!r} is not one of {list(scheme.relations)}")
            continue
        kinds = _ROLE_KINDS.get(role) or ("content", "entity")  # via-k
        a, b = regions[rel.from_id], regions[rel.to_id]
        if (a.kind, b.kind) == kinds:
            head, tail = a, b
        elif (b.kind, a.kind) == kinds:
            head, tail = b, a
        else:
            problems.append(f"{here}: a {rel.labels[0]} relation joins a {kinds[0]} region and a {kinds[1]} region, "
                            f"not {a.kind} and {b.kind}")
            continue
        links[head.id].setdefault(role, []).append(tail.id)
    return links


def _chosen(scheme: Scheme, region: Region, fieldname: str) -> str | None:
    """The value chosen for ``fieldname`` on ``region``, or None."""
    for tag, (f, _) in scheme.choices.items():
        if f == fieldname and tag in region.choices:
            return region.choices[tag][0]
    return None


def _claims(regions: dict[str, Region], links: _Links, ids: dict[str, str], scheme: Scheme, where: str,
            problems: list[str]) -> tuple[list[dict[str, Any]], set[str]]:
    """``(claims, ids of the cue regions they use)``: one claim per content region, with at most
    one source and one cue, and a ``via`` chain ``via-1`` … ``via-<max>`` without gaps."""
    cues_used: set[str] = set()
    claims = []
    max_via = scheme.max_via
    for g in regions.values():
        if g.kind != "content":
            continue
        here = f"{where}, region {g.id}"
        lk = links[g.id]
        for role in ("source", "cue"):
            if len(lk.get(role, [])) > 1:
                problems.append(f"{here}: the claim has {len(lk[role])} {role} relations; it takes one")
        via = []
        for k in range(1, max_via + 1):
            got = lk.get(f"via-{k}", [])
            if len(got) > 1:
                problems.append(f"{here}: the claim has {len(got)} via-{k} relations; it takes one")
            if got and len(via) != k - 1:
                problems.append(f"{here}: via-{k} without via-{k - 1}: the reporting chain has a gap")
            via.extend(ids[x] for x in got[:1])
        cue = None
        if lk.get("cue"):
            c = regions[lk["cue"][0]]
            cues_used.add(c.id)
            cue = {"start": c.start, "end": c.end, "text": c.text}
        src = lk.get("source")
        claims.append({"id": ids[g.id], "content": {"start": g.start, "end": g.end, "text": g.text}, "cue": cue,
                       "source": ids[src[0]] if src else None, "via": via,
                       "checkworthy": _chosen(scheme, g, "checkworthy"), "speech": _chosen(scheme, g, "speech")})
    return claims, cues_used


def _check_cues_and_choices(regions: dict[str, Region], cues_used: set[str], scheme: Scheme, where: str,
                            problems: list[str]) -> None:
    """A cue region must belong to a claim; a choice must sit on a region of its kind
    (checkworthy and speech on contents, stance_label on stances)."""
    for g in regions.values():
        if g.kind == "cue" and g.id not in cues_used:
            problems.append(f"{where}, region {g.id}: a cue linked to no claim (draw a cue relation from its content)")
        fields = {"content": ("checkworthy", "speech"), "stance": ("stance_label",)}.get(g.kind, ())
        wrong = {t for t in g.choices if scheme.choices[t][0] not in fields}
        if wrong:
            problems.append(f"{where}, region {g.id}: {sorted(wrong)} chosen on a {g.kind} region")


def _stances(regions: dict[str, Region], links: _Links, ids: dict[str, str], scheme: Scheme, where: str,
             problems: list[str]) -> list[dict[str, Any]]:
    """One stance per stance region: its holder (a holder relation, else the one entity over the
    same words), its label (a choice) and evidence; one stance per holder and target."""
    stances = []
    stance_pairs: dict[tuple[str, str], str] = {}
    for g in regions.values():
        if g.kind != "stance":
            continue
        here = f"{where}, region {g.id}"
        holders = links[g.id].get("holder", [])
        if not holders:  # fallback: the one entity region over the same words
            holders = [e.id for e in regions.values() if e.kind == "entity" and (e.start, e.end) == (g.start, g.end)]
            if len(holders) != 1:
                problems.append(f"{here}: the stance has no holder relation to an entity"
                                + (" and several entities share its span" if holders else ""))
                continue
        if len(holders) > 1:
            problems.append(f"{here}: the stance has {len(holders)} holder relations; it takes one")
        label = _chosen(scheme, g, "stance_label")
        if label is None:
            problems.append(f"{here}: the stance has no stance label ({'/'.join(scheme.stance_labels)})")
            continue
        pair = (holders[0], g.label)
        if pair in stance_pairs:
            problems.append(f"{here}: a second stance of the same holder on {g.label!r} (the first is region {stance_pairs[pair]}); "
                            "one stance per holder and target (guidelines §5)")
            continue
        stance_pairs[pair] = g.id
        evidence = [ids[x] for x in links[g.id].get("evidence", [])]
        stances.append({"id": ids[g.id], "holder": ids[holders[0]], "target": g.label, "label": label, "evidence": evidence})
    return stances
