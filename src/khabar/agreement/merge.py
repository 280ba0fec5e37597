"""Majority merge of one document's annotator files into gold items and conflicts (pure; used by
:mod:`khabar.agreement.adjudicate`).

An item goes into gold when strictly more than half of the document's annotators give it
(``need = n // 2 + 1`` of ``n``; with three annotators, two). Items are compared by span, never by
id (ids differ between annotators):

* entities: keyed by ``(start, end, type)``; conflicts are grouped by span: ``span-minority``
  (at most half marked the span), ``type-no-majority`` (a majority marked it, no type has a
  majority), ``type-minority`` (a type went into gold, another type given to the span did not);
* claims: keyed by content span; ``cue``, ``source``, ``via``, ``checkworthy`` and ``speech`` are
  each decided by majority (source and via as entity spans); conflicts: ``claim-minority``,
  ``attribute-no-majority`` (with ``fields``), ``source-not-in-gold`` / ``via-not-in-gold`` (the
  agreed entity span did not make it into gold), ``chain-invalid``;
* stances: keyed by ``(holder span, target)``; label by majority; evidence = the claims (by
  content span) cited; conflicts: ``stance-minority``, ``label-no-majority``,
  ``evidence-no-majority`` (a claim span cited by at most half of the annotators: every cited
  claim needs a majority, as every claim attribute does), ``holder-not-in-gold``,
  ``evidence-not-in-gold`` (a claim a majority cite did not make it into gold);
* ``duplicate-in-annotation``: one annotator has two claims (or stances) with the same key.

A claim or stance with a conflict stays out of gold as a whole (the agreed part of it is not
kept): gold never holds an item with a silently dropped attribute or evidence claim, and the
review (``khabar studio push-review``) shows every annotator's full version.

A source, via or holder span resolves to the gold entity on that span whose type most of those
annotators gave (ties: schema order). Gold ids are ``e1``…, ``c1``…, ``s1``… in text order
(entities by start, longer first, then type in schema order; claims by content span; stances by
holder span, then target in schema order).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["merge_annotations", "Merged"]

Span = tuple[int, int]


@dataclass
class Merged:
    """``entities``/``claims``/``stances``: the gold items; ``conflicts``: conflict dicts (see
    ``schema/conflicts.schema.json``); ``unanimous``: per layer, gold items every annotator gave alike."""

    entities: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    stances: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    unanimous: dict[str, int] = field(default_factory=lambda: {"entities": 0, "claims": 0, "stances": 0})


def _span(text: str, s: int, e: int) -> dict[str, Any]:
    return {"start": s, "end": e, "text": text[s:e]}


def _winner(votes: Counter, need: int) -> tuple[bool, Any]:
    """(found, value) of the value with at least ``need`` votes (at most one can have them)."""
    for value, n in votes.items():
        if n >= need:
            return True, value
    return False, None


class _Merger:
    def __init__(self, text: str, anns: dict[str, dict[str, Any]], entity_types: list[str], targets: list[str]):
        self.text, self.anns, self.names = text, anns, sorted(anns)
        self.n, self.need = len(anns), len(anns) // 2 + 1
        self.type_order = {t: i for i, t in enumerate(entity_types)}
        self.target_order = {t: i for i, t in enumerate(targets)}
        self.ents = {a: {e["id"]: e for e in anns[a]["entities"]} for a in self.names}
        self.out = Merged()
        self.gold_at: dict[Span, dict[str, str]] = {}  # span -> type -> gold entity id

    # ------------------------------------------------------------------ rendering of versions
    def _entity(self, e: dict[str, Any]) -> dict[str, Any]:
        return {"id": e["id"], "start": e["start"], "end": e["end"], "text": e["text"], "type": e["type"]}

    def _claim(self, a: str, c: dict[str, Any]) -> dict[str, Any]:
        ents = self.ents[a]
        return {"id": c["id"], "content": c["content"], "cue": c.get("cue"),
                "source": self._entity(ents[c["source"]]) if c.get("source") is not None else None,
                "via": [self._entity(ents[v]) for v in c.get("via") or []], "checkworthy": c.get("checkworthy"), "speech": c.get("speech")}

    def _stance(self, a: str, st: dict[str, Any], claims: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {"id": st["id"], "holder": self._entity(self.ents[a][st["holder"]]), "target": st["target"], "label": st["label"],
                "evidence": [{"id": c, **claims[c]["content"]} for c in st.get("evidence") or []]}

    def _conflict(self, layer: str, cid: str, reason: str, message: str, key: dict[str, Any], versions: dict[str, Any],
                  gold: list[dict[str, Any]] | None = None, fields: list[str] | None = None) -> None:
        c = {"id": cid, "layer": layer, "reason": reason, "message": message, "key": key}
        if fields:
            c["fields"] = fields
        c["gold"] = gold
        c["versions"] = {a: versions.get(a) for a in self.names}
        self.out.conflicts.append(c)

    def _resolve(self, span: Span | None, types: Counter) -> str | None:
        """The gold entity id on ``span`` whose type ``types`` favours (None: no gold entity there)."""
        at = self.gold_at.get(span) if span else None
        if not at:
            return None
        return at[min(at, key=lambda t: (-types.get(t, 0), self.type_order[t]))]

    # ------------------------------------------------------------------ layers
    def entities(self) -> None:
        spans: dict[Span, dict[str, list[dict[str, Any]]]] = {}
        for a in self.names:
            for e in self.anns[a]["entities"]:
                spans.setdefault((e["start"], e["end"]), {}).setdefault(a, []).append(e)
        keys = []
        for span in sorted(spans):
            by = spans[span]
            votes = Counter(t for a in by for t in {e["type"] for e in by[a]})
            won = sorted((t for t, v in votes.items() if v >= self.need), key=self.type_order.__getitem__)
            lost = sorted((t for t, v in votes.items() if v < self.need), key=self.type_order.__getitem__)
            keys += [(span, t) for t in won]
            self.out.unanimous["entities"] += sum(1 for t in won if votes[t] == self.n)
            if lost:
                said = "; ".join(f"{t} by {', '.join(a for a in self.names if any(e['type'] == t for e in by.get(a, [])))}"
                                 for t in sorted(votes, key=self.type_order.__getitem__))
                if won:
                    reason, why = "type-minority", f"{'/'.join(won)} went into gold; {'/'.join(lost)} did not reach {self.need} of {self.n}"
                elif len(by) >= self.need:
                    reason, why = "type-no-majority", f"{len(by)} of {self.n} annotators marked the span but no type reached {self.need}"
                else:
                    reason, why = "span-minority", f"only {len(by)} of {self.n} annotators marked the span ({self.need} needed)"
                versions = {a: sorted((self._entity(e) for e in es), key=lambda x: self.type_order[x["type"]]) for a, es in by.items()}
                self._conflict("entities", f"entities:{span[0]}-{span[1]}", reason, f"{why} ({said})",
                               {"span": _span(self.text, *span)}, versions, gold=[(span, t) for t in won] or None)
        keys.sort(key=lambda k: (k[0][0], -k[0][1], self.type_order[k[1]]))
        for i, (span, t) in enumerate(keys, 1):
            self.gold_at.setdefault(span, {})[t] = f"e{i}"
            self.out.entities.append({"id": f"e{i}", **_span(self.text, *span), "type": t})
        for c in self.out.conflicts:  # the gold entities on a conflicting span, with their gold ids
            if c["gold"]:
                c["gold"] = [{"id": self.gold_at[s][t], **_span(self.text, *s), "type": t} for s, t in c["gold"]]

    def claims(self) -> None:
        keyed: dict[Span, dict[str, list[dict[str, Any]]]] = {}
        for a in self.names:
            for c in self.anns[a]["claims"]:
                keyed.setdefault((c["content"]["start"], c["content"]["end"]), {}).setdefault(a, []).append(c)
        self.claim_ids: dict[Span, str] = {}
        for span in sorted(keyed):
            by = keyed[span]
            versions = {a: [self._claim(a, c) for c in cs] for a, cs in by.items()}
            cid, key = f"claims:{span[0]}-{span[1]}", {"content": _span(self.text, *span)}
            if len(by) < self.need:
                self._conflict("claims", cid, "claim-minority", f"only {len(by)} of {self.n} annotators marked this claim "
                               f"({self.need} needed)", key, versions)
                continue
            if any(len(cs) > 1 for cs in by.values()):
                self._conflict("claims", cid, "duplicate-in-annotation", "an annotator has two claims on this content span", key, versions)
                continue
            vals = {a: self._claim(a, cs[0]) for a, cs in by.items()}
            sp = lambda e: None if e is None else (e["start"], e["end"])  # noqa: E731
            attr = {"cue": lambda v: sp(v["cue"]), "source": lambda v: sp(v["source"]),
                    "via": lambda v: tuple(sp(x) for x in v["via"]), "checkworthy": lambda v: v["checkworthy"], "speech": lambda v: v["speech"]}
            decided, missing, unanimous = {}, [], True
            for name, get in attr.items():
                votes = Counter(get(v) for v in vals.values())
                ok, decided[name] = _winner(votes, self.need)
                unanimous &= ok and votes[decided[name]] == self.n
                if not ok:
                    missing.append(name)
            if missing:
                self._conflict("claims", cid, "attribute-no-majority", f"no majority ({self.need} of {self.n}) for "
                               f"{', '.join(missing)}", key, versions, fields=missing)
                continue
            types = lambda s: Counter(x["type"] for v in vals.values() for x in [v["source"], *v["via"]] if x and sp(x) == s)  # noqa: E731
            source = self._resolve(decided["source"], types(decided["source"])) if decided["source"] else None
            via = [self._resolve(s, types(s)) for s in decided["via"]]
            if decided["source"] and source is None:
                self._conflict("claims", cid, "source-not-in-gold", "the agreed source span is not a gold entity", key, versions)
                continue
            if None in via:
                self._conflict("claims", cid, "via-not-in-gold", "an agreed reporting-chain span is not a gold entity", key, versions)
                continue
            if source in via or len(set(via)) != len(via):
                self._conflict("claims", cid, "chain-invalid", "the agreed source and chain name one gold entity twice", key, versions)
                continue
            gid = f"c{len(self.out.claims) + 1}"
            self.claim_ids[span] = gid
            self.out.unanimous["claims"] += unanimous and len(by) == self.n
            cue = decided["cue"]
            self.out.claims.append({"id": gid, "content": _span(self.text, *span), "cue": _span(self.text, *cue) if cue else None,
                                    "source": source, "via": via, "checkworthy": decided["checkworthy"], "speech": decided["speech"]})

    def stances(self) -> None:
        keyed: dict[tuple[Span, str], dict[str, list[dict[str, Any]]]] = {}
        for a in self.names:
            for st in self.anns[a]["stances"]:
                h = self.ents[a][st["holder"]]
                keyed.setdefault(((h["start"], h["end"]), st["target"]), {}).setdefault(a, []).append(st)
        for span, target in sorted(keyed, key=lambda k: (k[0], self.target_order[k[1]])):
            by = keyed[(span, target)]
            claims = {a: {c["id"]: c for c in self.anns[a]["claims"]} for a in by}
            versions = {a: [self._stance(a, st, claims[a]) for st in sts] for a, sts in by.items()}
            cid, key = f"stances:{span[0]}-{span[1]}:{target}", {"holder": _span(self.text, *span), "target": target}
            if len(by) < self.need:
                self._conflict("stances", cid, "stance-minority", f"only {len(by)} of {self.n} annotators gave this stance "
                               f"({self.need} needed)", key, versions)
                continue
            if any(len(s) > 1 for s in by.values()):
                self._conflict("stances", cid, "duplicate-in-annotation", "an annotator has two stances of one holder span "
                               "towards this target", key, versions)
                continue
            labels = Counter(sts[0]["label"] for sts in by.values())
            ok, label = _winner(labels, self.need)
            if not ok:
                self._conflict("stances", cid, "label-no-majority", f"no label reached {self.need} of {self.n} ("
                               + ", ".join(f"{lab}: {n}" for lab, n in sorted(labels.items())) + ")", key, versions)
                continue
            cited: dict[Span, list[str]] = {}  # evidence claim content span -> annotators citing it
            for a, sts in by.items():
                for s in sorted({(claims[a][c]["content"]["start"], claims[a][c]["content"]["end"]) for c in sts[0].get("evidence") or []}):
                    cited.setdefault(s, []).append(a)
            weak = [f"claim {s[0]}-{s[1]} cited by {', '.join(who)}" for s, who in sorted(cited.items()) if len(who) < self.need]
            if weak:
                self._conflict("stances", cid, "evidence-no-majority", f"no majority ({self.need} of {self.n}) for evidence: "
                               + "; ".join(weak), key, versions)
                continue
            holder = self._resolve(span, Counter(self.ents[a][sts[0]["holder"]]["type"] for a, sts in by.items()))
            if holder is None:
                self._conflict("stances", cid, "holder-not-in-gold", "the agreed holder span is not a gold entity", key, versions)
                continue
            lost = [f"{s[0]}-{s[1]}" for s in sorted(cited) if s not in self.claim_ids]
            if lost:
                self._conflict("stances", cid, "evidence-not-in-gold", f"agreed evidence is not a gold claim (content {', '.join(lost)})",
                               key, versions)
                continue
            evidence = sorted((self.claim_ids[s] for s in cited), key=lambda c: int(c[1:]))
            self.out.unanimous["stances"] += len(by) == self.n and labels[label] == self.n and all(len(w) == self.n for w in cited.values())
            self.out.stances.append({"id": f"s{len(self.out.stances) + 1}", "holder": holder, "target": target, "label": label,
                                     "evidence": evidence})


def merge_annotations(text: str, anns: dict[str, dict[str, Any]], entity_types: list[str], targets: list[str]) -> Merged:
    """Merge annotator id -> annotation (each checked against ``text``, two or more) into gold items
    and conflicts (see the module docstring for the rules).

    Args:
        entity_types, targets: the ``EntityType`` and ``StanceTarget`` vocabularies in schema order.

    Raises:
        ValueError: fewer than two annotations.
    """
    if len(anns) < 2:
        raise ValueError(f"need two or more annotations, got {len(anns)}")
    m = _Merger(text, anns, entity_types, targets)
    m.entities()
    m.claims()
    m.stances()
    return m.out
