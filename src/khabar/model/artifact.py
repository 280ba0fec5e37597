"""A trained model as a versioned folder, and the :class:`Model` that pre-annotates with it.

The folder (``khabar train --out models/<name>``) holds the three CRFsuite model files
(:data:`khabar.core.project.MODEL_CRFS`: entity outer layer, entity nested layer, claims), a
``model.json`` (:data:`~khabar.core.project.MODEL_META`: model version, schema version, training
data with hashes, settings, the clitic rule, document frequencies, cue words, figures) and a
``MODEL_CARD.md``. No pickle: loading a model runs no code from the folder. The model version is
``khabar-crf-<first 12 hex digits of SHA-256 over the training data's description and hashes, the
toolkit version, the label schema and the model part of model.json>`` (not the CRF files' bytes),
so the same training data, settings and toolkit give the same version on any machine.

Public API: :class:`Model`, :func:`load_model`, :func:`save_model`, :func:`model_from_training`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from khabar.core.errors import InputError
from khabar.core.project import MODEL_CARD, MODEL_CRFS, MODEL_META
from khabar.model.claims import ClaimExample, tag_claims
from khabar.model.entities import Clitics, Example, tag_entities
from khabar.text.normalview import NormalView

__all__ = ["Model", "load_model", "save_model", "model_from_training", "type_fingerprint", "TOOL", "FORMAT"]

TOOL = "khabar-model"
FORMAT = 1  #: the folder's format; a model of another format is refused


def type_fingerprint(types: list[str]) -> str:
    """The label schema a model was trained on: ``"entity-types-<12 hex digits>"``, a SHA-256 of
    the entity type names in id order; a model is refused where the project's differ."""
    return "entity-types-" + hashlib.sha256("\n".join(types).encode("utf-8")).hexdigest()[:12]


class _Tagger:
    """A CRFsuite tagger read from model bytes, with the ``predict_single`` of sklearn-crfsuite."""

    def __init__(self, data: bytes):
        import pycrfsuite

        self.data = data
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open_inmemory(data)

    def predict_single(self, xseq: list[dict[str, Any]]) -> list[str]:
        return self._tagger.tag(xseq)

    def labels(self) -> list[str]:
        """The labels the CRF can give."""
        return list(self._tagger.labels())


class Model:
    """A trained entity and claim model (see the module docstring).

    Attributes:
        meta: the content of ``model.json``.
        version: the model version (``khabar-crf-<hash>``), what predictions carry as ``model_version``.
        schema_version: :func:`type_fingerprint` of the entity types it was trained on.
    """

    def __init__(self, meta: dict[str, Any], crfs: dict[str, bytes]):
        self.meta = meta
        self.version: str = meta["model_version"]
        self.schema_version: str = meta["schema_version"]
        m = meta["model"]
        self._entities = {"outer": _Tagger(crfs[MODEL_CRFS[0]]), "inner": _Tagger(crfs[MODEL_CRFS[1]]),
                          "clitics": Clitics(dict(m["clitics"]), set(m["words"])), "df": dict(m["df"]),
                          "lexicon": {tuple(k): dict(v) for k, v in m["lexicon"]}}
        self._claims = {"crf": _Tagger(crfs[MODEL_CRFS[2]]), "cues": frozenset(m["cues"])}
        self.crfs = crfs

    def annotate(self, doc: dict[str, Any]) -> dict[str, Any]:
        """An annotation of ``doc`` (``{"text", "sentences"?, "id"?, "text_sha256"?}``) shaped as
        ``schema/annotation.schema.json``: entities and claims with code-point offsets (half-open)
        into ``doc["text"]``, found on its normalised view and mapped back (the text is never
        changed). Without ``sentences`` the text is one sentence per line."""
        text = doc["text"]
        view = NormalView(text)
        sents = doc.get("sentences") or _lines(text)
        sentences = [(view.to_view(s["start"]), view.to_view(s["end"])) for s in sents]
        ents = tag_entities(self._entities, Example(view.text, sentences))
        back = view.to_original
        entities = []
        for i, e in enumerate(ents):
            s, t = back(e["start"], e["end"])
            entities.append({"id": f"e{i + 1}", "start": s, "end": t, "text": text[s:t], "type": e["type"]})
        claims = []
        for j, c in enumerate(tag_claims(self._claims, ClaimExample(view.text, sentences, ents))):
            (cs, ce) = back(*c["content"])
            cue = None
            if c["cue"] is not None:
                us, ue = back(*c["cue"])
                cue = {"start": us, "end": ue, "text": text[us:ue]}
            claims.append({"id": f"c{j + 1}", "content": {"start": cs, "end": ce, "text": text[cs:ce]}, "cue": cue,
                           "source": entities[c["source"]]["id"] if c["source"] is not None else None,
                           "via": [], "checkworthy": None, "speech": c["speech"]})
        return {"schema_version": "1.0", "doc_id": doc.get("id"), "text_sha256": doc.get("text_sha256")
                or hashlib.sha256(text.encode("utf-8")).hexdigest(), "annotator": "preannotator",
                "guidelines_version": None, "origin": {"kind": "preannotator", "tool": TOOL, "version": self.version},
                "entities": entities, "claims": claims, "stances": []}


def _lines(text: str) -> list[dict[str, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append({"start": pos, "end": pos + len(line)})
        pos += len(line) + 1
    return out or [{"start": 0, "end": len(text)}]


def _crf_bytes(crf: Any) -> bytes:
    return Path(crf.modelfile.name).read_bytes()


def model_from_training(entities: dict[str, Any], claims: dict[str, Any], meta: dict[str, Any]) -> Model:
    """A :class:`Model` from :func:`khabar.model.entities.train_entities` and
    :func:`khabar.model.claims.train_claims` results, with ``meta`` (training data, settings,
    schema version) completed by the model part and the model version."""
    crfs = {MODEL_CRFS[0]: _crf_bytes(entities["outer"]), MODEL_CRFS[1]: _crf_bytes(entities["inner"]),
            MODEL_CRFS[2]: _crf_bytes(claims["crf"])}
    clitics: Clitics = entities["clitics"]
    part = {"clitics": sorted(clitics.seen.items()), "words": sorted(clitics.words), "df": sorted(entities["df"].items()),
            "lexicon": sorted([list(k), v] for k, v in entities["lexicon"].items()),
            "cues": sorted(claims["cues"]), "settings": {"entities": entities["settings"], "claims": claims["settings"]}}
    # the version names what made the model (data, settings, toolkit), not the CRF files' float bits,
    # so the same inputs give the same version on any machine
    digest = hashlib.sha256(json.dumps([meta.get("training"), meta.get("toolkit"), meta.get("schema_version"), part],
                                       ensure_ascii=False, sort_keys=True).encode("utf-8"))
    full = {"format": FORMAT, "tool": TOOL, **meta, "model_version": f"khabar-crf-{digest.hexdigest()[:12]}", "model": part,
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in crfs.items()}}
    return Model(full, crfs)


def save_model(model: Model, folder: str | os.PathLike[str], card: str) -> Path:
    """Write ``model`` and its ``card`` (Markdown) to a new ``folder``, all or nothing.

    Raises:
        InputError: ``folder`` exists (a model is never overwritten) or cannot be written.
    """
    folder = Path(folder)
    if folder.exists() or folder.is_symlink():
        raise InputError(f"{folder}: exists; a trained model is never overwritten", hint="name a new --out folder")
    stage = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        for name, data in model.crfs.items():
            (stage / name).write_bytes(data)
        (stage / MODEL_META).write_text(json.dumps(model.meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (stage / MODEL_CARD).write_text(card, encoding="utf-8")
        os.rename(stage, folder)
        stage = None
    except OSError as err:
        raise InputError(f"{folder}: cannot write the model ({err.strerror or err})", hint="check the folder and free space") from None
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
    return folder


def load_model(folder: str | os.PathLike[str], schema_version: str | None = None) -> Model:
    """The model in ``folder`` (made by :func:`save_model`).

    Args:
        schema_version: :func:`type_fingerprint` of the project's entity types; a model trained on
            another label schema is refused (its types may not be this schema's).

    Raises:
        InputError: not a model folder, a file missing or unreadable, ``model.json`` malformed, of
            another format, or of another schema version, a CRF file whose SHA-256 is not the one
            ``model.json`` records.
    """
    folder = Path(folder)
    meta_path = folder / MODEL_META
    if not folder.is_dir() or not meta_path.is_file():
        raise InputError(f"{folder}: not a model folder (no {MODEL_META})", hint="make one with: khabar train releases/<version> --out models/<name>")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        crfs = {name: (folder / name).read_bytes() for name in MODEL_CRFS}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else getattr(err, "strerror", None) or err
        raise InputError(f"{folder}: cannot read the model ({reason})", hint="train it again with khabar train") from None
    shape = [(k, t) for k, t in (("format", int), ("model", dict), ("files", dict), ("model_version", str), ("training", dict))
             if not (isinstance(meta, dict) and type(meta.get(k)) is t)]  # noqa: E721 - true and 1.0 are not the format 1
    if not isinstance(meta, dict) or shape or meta["format"] != FORMAT:
        what = f"field {shape[0][0]} is not a {shape[0][1].__name__}" if isinstance(meta, dict) and shape else "not an object" if not isinstance(meta, dict) else f"format {meta['format']}"
        raise InputError(f"{meta_path}: not a khabar model of format {FORMAT} ({what})", hint="train it again with this khabar: khabar train")
    if schema_version is not None and meta.get("schema_version") != schema_version:
        raise InputError(f"{meta_path}: field schema_version: the model was trained on another label schema "
                         f"({meta.get('schema_version')}; this project's is {schema_version}: its entity types differ)", hint="train a model on a release of this schema: khabar train")
    for name, data in crfs.items():
        if (meta.get("files") or {}).get(name) != hashlib.sha256(data).hexdigest():
            raise InputError(f"{folder / name}: does not match the SHA-256 in {MODEL_META} (a damaged or replaced file)",
                             hint="train the model again with khabar train")
    try:
        model = Model(meta, crfs)
        _check_labels(model, meta_path)
        return model
    except (KeyError, TypeError, ValueError, OSError) as err:
        raise InputError(f"{folder}: not a usable model ({type(err).__name__}: {err})", hint="train it again with khabar train") from None


def _check_labels(model: Model, meta_path: Path) -> None:
    """Refuse CRF files whose labels are not what their place needs: IOB2 over the model's entity
    types for the entity CRFs, IOB2 over ``CUE``/``SRC``/``CONTENT`` for the claim CRF (a file
    copied over another, its SHA-256 updated, is caught here rather than in the figures)."""
    types = model.meta.get("entity_types") or []
    wanted = {MODEL_CRFS[0]: set(types), MODEL_CRFS[1]: set(types), MODEL_CRFS[2]: {"CUE", "SRC", "CONTENT"}}
    taggers = {MODEL_CRFS[0]: model._entities["outer"], MODEL_CRFS[1]: model._entities["inner"], MODEL_CRFS[2]: model._claims["crf"]}
    for name, tagger in taggers.items():
        bad = sorted(lab for lab in tagger.labels() if lab != "O" and (lab[:2] not in ("B-", "I-") or lab[2:] not in wanted[name]))
        if bad:
            raise InputError(f"{meta_path.parent / name}: labels {', '.join(bad[:5])} are not those of this file's place "
                             f"({'entity types of ' + MODEL_META if name != MODEL_CRFS[2] else 'CUE, SRC, CONTENT'})",
                             hint="train the model again with khabar train")
