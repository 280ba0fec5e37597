"""The stance-target registry, ``schema/stance-targets.json``: the corpus's SemEval-2016 targets.

Targets are corpus data that grow with the corpus (DESIGN.md): each has an ``id`` (kebab-case,
never changed once released), Arabic and English wording, a description, what ``FAVOR`` and
``AGAINST`` mean for it, the release that first carried it (``added_in``) and the documents it
applies to (what an annotator is offered in Label Studio). The registry's order is the order of
the ``StanceTarget`` ClassLabel: new targets are appended, so the label ids of released targets
never change and adding one is a MINOR release (:func:`khabar.dataset.versioning.features_bump`).

:class:`khabar.core.schema.Schemas` reads the registry (checked against
``schema/stance-targets.schema.json``) into the ``StanceTarget`` vocabulary of
``labels.schema.json`` (``enum`` and ``x-labels``), so every projection (JSON Schema validation,
Hugging Face ``ClassLabel``, the Label Studio config, the card's table) derives from it.

Public API: :data:`REGISTRY`, :func:`inject`, :func:`applicable`.
"""

from __future__ import annotations

from typing import Any

from khabar.core.errors import InputError

__all__ = ["REGISTRY", "inject", "applicable", "LABEL_KEYS"]

REGISTRY = "stance-targets.json"
#: the registry fields copied into ``x-labels`` of ``StanceTarget`` (the card's table columns)
LABEL_KEYS = ("en", "ar", "description", "favor", "against", "added_in")


def inject(labels: dict[str, Any], registry: dict[str, Any], where: str) -> None:
    """Make the registry's targets the ``StanceTarget`` vocabulary of ``labels`` (the parsed
    ``labels.schema.json``, changed in place): ``enum`` = the ids in registry order,
    ``x-labels`` = their wording.

    Raises:
        InputError: an id is used twice (``where`` names the file).
    """
    ids = [t["id"] for t in registry["targets"]]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"{where}: targets: id {dup[0]!r} is used twice", hint="a target id names one target for ever")
    vocab = labels["$defs"]["StanceTarget"]
    vocab["enum"] = ids
    vocab["x-labels"] = {t["id"]: {k: t[k] for k in LABEL_KEYS if k in t} for t in registry["targets"]}


def applicable(registry: dict[str, Any], doc_id: str) -> list[str]:
    """The ids of the targets that apply to document ``doc_id``, in registry order."""
    return [t["id"] for t in registry["targets"] if doc_id in t.get("documents", ())]
