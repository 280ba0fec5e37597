"""``khabar train``: the trained pre-annotator (:mod:`khabar.model`) learned from a release's
``train`` split, scored on its ``test`` split next to the gazetteer pre-annotator, and saved with
its model card.

Training data: the gold of the release's ``documents`` config, ``train`` split (documents marked
annotated; never ``validation`` or ``test``), optionally joined, for entities only, with the open
NER samples of ``../shared/realdata/arabic_ner_conll`` (:data:`EXTRA`): the Wojood sample (MIT;
Wojood types as they are) and AQMAR (CC BY-SA 3.0; PER -> PERS, ORG -> ORG, LOC -> LOC by the
schema's crosswalk, MIS0-MIS3 left untagged). Figures are on the ``test`` split, which the model
never sees: entities with nervaluate (strict and partial P/R/F1, per type), claim content spans,
claim source accuracy (:func:`khabar.annotate.evaluate.source_accuracy`).

Public API: :func:`train_release`, :func:`train_rows`, :func:`figures`, :data:`EXTRA`.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Sequence

from khabar import __version__
from khabar.annotate.evaluate import score_annotator
from khabar.annotate.preannotate import TOOL as GAZETTEER_TOOL, VERSION as GAZETTEER_VERSION, preannotate
from khabar.baseline.run import load_release_rows
from khabar.core.errors import InputError
from khabar.model.artifact import Model, model_from_training, type_fingerprint
from khabar.model.claims import ClaimExample, train_claims
from khabar.model.entities import Example, train_entities
from khabar.text.normalview import NormalView

__all__ = ["train_release", "train_rows", "figures", "EXTRA"]

#: optional extra entity data: name -> (CoNLL format, licence, class map stated in the card)
EXTRA = {"wojood": ("wojood", "MIT (SinaLab/ArabicNER)", "Wojood types as they are"),
         "aqmar": ("aqmar", "CC BY-SA 3.0 (AQMAR, from Arabic Wikipedia); the model is then a derivative under CC BY-SA 3.0",
                   "PER -> PERS, ORG -> ORG, LOC -> LOC (schema crosswalk), MIS0-MIS3 untagged")}


def _view_examples(doc: dict[str, Any]) -> tuple[Example, ClaimExample]:
    view = NormalView(doc["text"])
    tv = view.to_view
    sents = [(tv(s["start"]), tv(s["end"])) for s in doc["sentences"]]
    ents = [{"start": tv(e["start"]), "end": tv(e["end"]), "type": e["type"]} for e in doc["entities"]]
    index = {e["id"]: i for i, e in enumerate(doc["entities"])}
    claims = [{"content": (tv(c["content"]["start"]), tv(c["content"]["end"])),
               "cue": (tv(c["cue"]["start"]), tv(c["cue"]["end"])) if c.get("cue") else None,
               "source": index.get(c.get("source"))} for c in doc["claims"]]
    return Example(view.text, sents, ents), ClaimExample(view.text, sents, ents, claims)


def _conll_examples(path: Path, fmt: str, schemas: Any) -> list[Example]:
    from khabar.formats.conll.reader import import_classes, read_conll

    mapping = {"MIS0": "O", "MIS1": "O", "MIS2": "O", "MIS3": "O"} if fmt == "aqmar" else None
    classes = import_classes(fmt, schemas, None)
    if mapping:
        classes.update(mapping)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})", hint="name a CoNLL file of ../shared/realdata/arabic_ner_conll") from None
    try:
        conll = read_conll(data, str(path), fmt, classes)
    except InputError as err:  # its hint speaks of `import conll --map`, which train has not
        raise InputError(str(err).replace("not imported", "not joined"),
                         hint=f"--with takes a {fmt} CoNLL file as ../shared/realdata/arabic_ner_conll holds; "
                              f"check it with: khabar import conll {path} --format {fmt}") from None
    out = []
    for para in conll.paragraphs:
        offs, pos = [], 0
        for t in para.tokens:
            offs.append((pos, pos + len(t.text)))
            pos += len(t.text) + 1
        text = " ".join(t.text for t in para.tokens)
        sents, i = [], 0
        for s in para.sentences:
            sents.append((offs[i][0], offs[i + len(s) - 1][1]))
            i += len(s)
        ents = [{"start": offs[a][0], "end": offs[b - 1][1], "type": typ} for a, b, typ, _ in para.entities if typ != "O"]
        out.append(Example(text, sents, ents))
    return out


def figures(annotate: Callable[[dict[str, Any]], dict[str, Any]], docs: Sequence[dict[str, Any]], types: list[str]) -> dict[str, Any]:
    """Scores of ``annotate`` on gold documents ``docs`` (rows of the ``documents`` config, names
    decoded): ``{"documents", "entities": {"overall", "per_type"}, "claims": {scheme: figures},
    "sources": source_accuracy}`` (see :func:`khabar.annotate.evaluate.evaluate_pairs`)."""
    return score_annotator(annotate, [(d, d) for d in docs], types)


def _gold_docs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if (r.get("annotation") or {}).get("annotated")]


def train_release(release: str | Path, extra: Sequence[Path] = (), schemas: Any = None,
                  progress: bool = False) -> tuple[Model, dict[str, Any]]:
    """Train the model on ``release``'s ``train`` gold (and ``extra`` CoNLL files) and score it on
    its ``test`` gold (:func:`train_rows` on the release's ``documents`` config).

    Args:
        release: a release folder (``releases/<version>``).
        extra: CoNLL files to join for entities; the format is told by the name (``wojood*`` or
            ``aqmar*``, see :data:`EXTRA`).
        schemas: the project's :class:`khabar.core.schema.Schemas` (for the CoNLL class map).

    Raises:
        InputError: not a release, no ``documents`` config, entity types other than ``schemas``',
            and what :func:`train_rows` raises.
    """
    release = Path(release)
    rows, features = load_release_rows(release, "documents")
    types = list(features["entities"].feature["type"].names)
    if schemas is not None and types != schemas.vocab("EntityType"):
        raise InputError(f"{release}: its entity types are not this project's (schema/labels.schema.json changed since it was built); "
                         "a model trained on it would be refused here", hint="build a release of this schema first (khabar build), then train on it")
    return train_rows(rows, types, release.name, extra, schemas, progress)


def train_rows(rows: dict[str, list[dict[str, Any]]], types: list[str], release: str, extra: Sequence[Path] = (),
               schemas: Any = None, progress: bool = False, submitted: Sequence[str] = ()) -> tuple[Model, dict[str, Any]]:
    """Train on the ``train`` rows of the ``documents`` config (names decoded) and score on ``test``.

    ``submitted`` names the ``train`` documents whose rows are annotations submitted in Label
    Studio rather than the release's gold (a retraining, :mod:`khabar.baseline.retrain`); the
    model card and version say so.

    Returns:
        ``(model, report)``: the report holds the model's and the gazetteer pre-annotator's
        :func:`figures` on the ``test`` split.

    Raises:
        InputError: no gold document with entities in ``train``; an extra file unreadable or of an
            unknown format.
    """
    train = _gold_docs(rows.get("train", []))
    if not train or not any(d["entities"] for d in train):
        raise InputError(f"release {release}: no gold in the train split ({len(rows.get('train', []))} documents, none annotated with entities)",
                         hint="train on a release whose train split holds gold: khabar accept or adjudicate, then khabar build")
    pairs = [_view_examples(d) for d in train]
    joined, sources = [], []
    for path in extra:
        fmt = next((f for f in EXTRA if Path(path).name.lower().startswith(f)), None)
        if fmt is None:
            raise InputError(f"{path}: unknown extra data (the file name starts with neither wojood nor aqmar)",
                             hint="--with ../shared/realdata/arabic_ner_conll/wojood_sample_val.txt")
        ex = _conll_examples(Path(path), EXTRA[fmt][0], schemas)
        joined += ex
        sources.append({"file": Path(path).name, "format": fmt, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
                        "sentences": sum(len(e.sentences) for e in ex), "entities": sum(len(e.entities) for e in ex),
                        "licence": EXTRA[fmt][1], "class_map": EXTRA[fmt][2]})
    if not any(d["claims"] for d in train):
        raise InputError(f"release {release}: no gold claim in the train split ({len(train)} gold documents)",
                         hint="the claim model learns from gold claims: annotate claims, then khabar build")
    ent_model = train_entities([p[0] for p in pairs] + joined)
    claim_model = train_claims([p[1] for p in pairs])
    meta = {"schema_version": type_fingerprint(types), "entity_types": types, "toolkit": f"khabar {__version__}",
            "libraries": {n: version(n) for n in ("python-crfsuite", "sklearn-crfsuite")},
            "training": {"release": release, "split": "train", "documents": len(train),
                         "document_ids_sha256": hashlib.sha256("\n".join(sorted(d["id"] for d in train)).encode()).hexdigest(),
                         "text_sha256": hashlib.sha256("\n".join(d["text_sha256"] for d in sorted(train, key=lambda d: d["id"])).encode()).hexdigest(),
                         "entities": sum(len(d["entities"]) for d in train), "claims": sum(len(d["claims"]) for d in train),
                         "extra": sources, **({"submitted": list(submitted)} if submitted else {})}}
    model = model_from_training(ent_model, claim_model, meta)
    test = _gold_docs(rows.get("test", []))
    report = {"split": "test", "documents": len(test), "model": {"version": model.version, **figures(model.annotate, test, types)},
              "gazetteer": {"version": f"{GAZETTEER_TOOL} {GAZETTEER_VERSION}", **figures(preannotate, test, types)}}
    model.meta["figures"] = report
    return model, report
