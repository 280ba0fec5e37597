"""What a build would release, before it writes anything: the checked documents, their index, and
the diff against the latest release.

* :func:`iter_checked`: every corpus document (sorted by id) that passes its checks, with its gold
  annotation; one line per problem for the others (and for stray or orphaned annotation files);
* :func:`index_entry`: a document's ``reports/index.jsonl`` line (what
  :mod:`khabar.dataset.versioning` compares);
* :func:`plan`: the index a build would make now, and the problems that would stop it;
* :func:`diff_against_latest`: the :class:`~khabar.dataset.versioning.Diff` from the latest
  release to an index, schema changes included (the bump the next version needs).

Public API: :func:`iter_checked` (:func:`listed_ids` then :func:`check_document` of each), :func:`index_entry`, :func:`plan`, :func:`diff_against_latest`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from tqdm import tqdm

from khabar.annotate.files import load_checked_annotation
from khabar.core.checks import check_row
from khabar.core.errors import InputError, StaleAnnotationError
from khabar.core.ids import doc_id_str, is_doc_id
from khabar.core.jsonio import dumps_canonical, load_json
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.core.store import corpus_ids
from khabar.dataset.croissant import CROISSANT_VERSION
from khabar.dataset.digest import DIGEST_KEY, row_digest
from khabar.dataset.features import CONFIGS, features_for, make_encoder
from khabar.dataset.lookup import iter_index, iter_index_file, latest_release, read_build_info
from khabar.dataset.rows import document_row, split_for
from khabar.dataset.versioning import Diff, diff_streams, features_bump
from khabar.dataset.layout import AGREEMENT, BASELINE, CROISSANT, INDEX, LABEL_PLOT, LENGTH_PLOT, MODEL_REPORT, REPORTS, ROWS

#: reports every build writes; one the latest release lacks is a change (a patch)
BUILD_REPORTS = (AGREEMENT, BASELINE, MODEL_REPORT, LABEL_PLOT, LENGTH_PLOT)

__all__ = ["iter_checked", "listed_ids", "check_document", "index_entry", "plan", "diff_against_latest"]


def _annotation_sha(gold: dict[str, Any] | None) -> str | None:
    if gold is None:
        return None
    layers = {k: gold[k] for k in ("entities", "claims", "stances")}
    return hashlib.sha256(dumps_canonical(layers, indent=None).encode("utf-8")).hexdigest()


def _present(path: Path) -> bool:
    """``path`` is there: a file, a folder, or a symbolic link even if it points nowhere or loops
    (a broken link to a gold annotation is an error, never "no gold")."""
    return path.exists() or path.is_symlink()


def _stat_error(path: Path) -> str:
    """The system's reason why ``path`` cannot be followed (``No such file or directory``, ``Too many
    levels of symbolic links``)."""
    try:
        os.stat(path)
    except OSError as err:
        return err.strerror or type(err).__name__
    return "unreadable"


def _check_annotation_folders(project: Project, ids: np.ndarray, errors: list[str]) -> None:
    """A line in ``errors`` for each misnamed document folder under ``annotations/`` that holds
    JSON, and for each gold annotation of a document that is not in ``corpus/`` (``ids``, sorted)."""
    if not project.annotations.is_dir():
        return
    with os.scandir(project.annotations) as it:
        for entry in it:
            if entry.is_dir() and not entry.name.startswith(".") and not is_doc_id(entry.name):
                if any(p.suffix == ".json" for p in Path(entry.path).rglob("*")):
                    errors.append(f"{entry.path}: not a document folder (annotations/<doc_id>/ with doc_id kb-<16 lower-case hex digits>)")
                continue
            if entry.is_dir() and entry.name.startswith("kb-"):
                try:
                    value = np.uint64(int(entry.name[3:], 16))
                    at = int(np.searchsorted(ids, value))
                    missing = at >= len(ids) or ids[at] != value
                except (ValueError, OverflowError):
                    missing = True
                if missing and _present(project.gold(entry.name)):
                    errors.append(f"{project.gold(entry.name)}: annotation of a document that is not in corpus/")


def _checked_gold(project: Project, doc: dict[str, Any], schemas: Schemas, errors: list[str]) -> tuple[bool, dict[str, Any] | None]:
    """``(ok, gold or None)`` of a checked document; ``ok`` is False (and ``errors`` says why) when
    its gold annotation is stale, invalid or names no source annotator."""
    gp = project.gold(doc["id"])
    if not _present(gp):
        return True, None
    if gp.is_symlink() and not gp.exists():  # a link to nothing, or a loop: never "no gold"
        errors.append(f"{gp}: a symbolic link whose target cannot be read ({_stat_error(gp)}); "
                      "restore the gold annotation or remove the link")
        return False, None
    try:
        gold = load_checked_annotation(gp, doc, schemas)
    except StaleAnnotationError as err:
        errors.append(f"{err} (hint: {err.hint})")
        return False, None
    except InputError as err:
        errors.append(str(err))
        return False, None
    if not gold["origin"].get("sources"):
        errors.append(f"{gp}: origin.sources must name the pseudonymous annotator(s) this gold annotation came from")
        return False, None
    return True, gold


def listed_ids(project: Project, errors: list[str]) -> np.ndarray:
    """The ids of ``corpus/`` (sorted, as numbers: :func:`khabar.core.store.corpus_ids`); one line
    in ``errors`` for each file there that is not a document and for each stray or orphaned
    annotation folder (:func:`iter_checked`'s first problems)."""
    strays: list[str] = []
    ids = corpus_ids(project.corpus, strays)
    errors.extend(f"{project.corpus / name}: not a corpus document (expected kb-<16 hex digits>.json)" for name in sorted(strays))
    _check_annotation_folders(project, ids, errors)
    return ids


def check_document(project: Project, schemas: Schemas, value: Any, errors: list[str]) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """``(document, gold or None)`` of the corpus document numbered ``value`` (an id of
    :func:`listed_ids`) when it passes its checks; None, with one line per problem in ``errors``,
    when it does not (see :func:`iter_checked`)."""
    path = project.corpus_file(doc_id_str(value))
    try:
        doc = load_json(path)
    except InputError as err:
        errors.append(str(err))
        return None
    problems = schemas.problems("document", doc)
    if problems:
        errors.extend(f"{path}: {p.path[2:] or '$'}: schema-invalid: {p.message}" for p in problems)
        return None
    if path.stem != doc["id"]:
        errors.append(f"{path}: holds document {doc['id']}; the file must be named {doc['id']}.json")
        return None
    bad = check_row(doc)
    if bad:
        errors.extend(f"{path}: {f[2:]}: {c}: {m}" for c, f, m in bad)
        return None
    ok, gold = _checked_gold(project, doc, schemas, errors)
    return (doc, gold) if ok else None


def iter_checked(project: Project, schemas: Schemas, errors: list[str], progress: bool) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Yield ``(document, gold or None)`` for every corpus document that passes its checks, in id
    order; append one line per problem to ``errors`` for the others (and for stale gold files).

    Problems: a file in ``corpus/`` that is not a document; a document that is not strict JSON,
    fails ``schema/document.schema.json`` (``schema-invalid``), is misnamed, or fails the span and
    id checks of :mod:`khabar.core.checks`; a gold annotation that is stale or invalid
    (:func:`khabar.annotate.files.load_checked_annotation`), or of a document not in ``corpus/``.
    """
    for value in tqdm(listed_ids(project, errors), desc="build", unit="doc", disable=None if progress else True):
        checked = check_document(project, schemas, value, errors)
        if checked is not None:
            yield checked


def index_entry(doc: dict[str, Any], gold: dict[str, Any] | None, encoded: dict[str, Any]) -> dict[str, Any]:
    """The ``reports/index.jsonl`` line of a document: what :mod:`khabar.dataset.versioning` compares.

    ``encoded``: its ``documents`` row as stored (ClassLabel ids); ``row_sha256`` is its
    :func:`~khabar.dataset.digest.row_digest` in hex.
    """
    return {"id": doc["id"], "split": split_for(doc["id"]), "revision": doc["revision"], "text_sha256": doc["text_sha256"],
            "annotation_sha256": _annotation_sha(gold), "row_sha256": row_digest(encoded).hex()}


def plan(project: Project, out: Path, schemas: Schemas | None = None, progress: bool = False) -> list[str]:
    """Write the index a build would make now to ``out`` (JSON lines sorted by id) and return
    the problems that would stop the build (one line each), without writing anything else."""
    schemas = schemas or Schemas(project.schema)
    encode = make_encoder(features_for(schemas, "documents"))
    errors: list[str] = []
    with open(out, "w", encoding="utf-8") as fh:
        for doc, gold in iter_checked(project, schemas, errors, progress):
            try:
                encoded = encode(document_row(doc, gold))
            except KeyError as err:
                errors.append(f"{doc['id']}: label-unknown: {err} is not in the schema's vocabulary")
                continue
            fh.write(json.dumps(index_entry(doc, gold, encoded), ensure_ascii=False) + "\n")
    return errors


def diff_against_latest(project: Project, index: Path, schemas: Schemas, before: str | None = None) -> tuple[str | None, Diff]:
    """``(latest version or None, Diff from it to the index file ``index``)``, streamed. The schema
    part compares the features of every config (a config added is a minor change, one removed major).

    Args:
        before: consider only releases older than this version (the one being built).
    """
    latest = latest_release(project.releases, before=before)
    if latest is None:
        return None, diff_streams([], iter_index_file(index), names=("", str(index)))
    version, path = latest
    new_features = {c: features_for(schemas, c).to_dict() for c in CONFIGS}
    diff = diff_streams(iter_index(path), iter_index_file(index), names=(str(path / REPORTS / INDEX), str(index)))
    describe_change(diff, read_build_info(path)["features"], new_features, path, None)
    return version, diff


def describe_change(diff: Diff, old_features: dict[str, Any], new_features: dict[str, Any], old: Path, new: Path | None) -> Diff:
    """Add to ``diff`` what is not a document change: the schema bump and its detail (configs added
    or removed, features changed: fields, ClassLabel names such as entity types or stance
    targets), and the reports of :data:`BUILD_REPORTS` that release ``old`` lacks and ``new`` has
    (``new`` None: a build to come, which writes them all), and ``format_changed`` when
    ``old``'s croissant.json conforms to another Croissant version than ``new``'s (a build:
    :data:`khabar.dataset.croissant.CROISSANT_VERSION`), or its ``reports/rows.json`` names
    another digest scheme (a build: :data:`khabar.dataset.digest.DIGEST_KEY`), a patch.

    Args:
        old_features, new_features: ``{config: Features.to_dict()}`` (``reports/build.json``'s ``features``).
    """
    diff.schema = features_bump(old_features, new_features)
    added, removed = sorted(set(new_features) - set(old_features)), sorted(set(old_features) - set(new_features))
    changed = sorted(c for c in set(old_features) & set(new_features) if old_features[c] != new_features[c])
    diff.schema_detail = "; ".join(f"{what}: {', '.join(cs)}" for what, cs in
                                   (("configs added", added), ("configs removed", removed), ("features changed", changed)) if cs)
    for name in BUILD_REPORTS:
        if not (old / REPORTS / name).exists() and (new is None or (new / REPORTS / name).exists()):
            diff.note("reports_added", name)
    was, now = _croissant_version(old), CROISSANT_VERSION if new is None else _croissant_version(new)
    if was != now:
        def short(v: str | None) -> str:
            return "Croissant " + v.rsplit("/", 1)[-1] if v else "none"
        diff.note("format_changed", f"{CROISSANT}: {short(was)} -> {short(now)}")
    was, now = _digest_scheme(old), DIGEST_KEY if new is None else _digest_scheme(new)
    if was != now and was is not None:
        diff.note("format_changed", f"{REPORTS}/{ROWS}: digest {was!r} -> {now!r}")
    return diff


def _digest_scheme(release: Path) -> str | None:
    """The digest scheme of a release's ``reports/rows.json`` (None if absent or unreadable)."""
    try:
        scheme = load_json(release / REPORTS / ROWS).get("digest")
    except (InputError, AttributeError):
        return None
    return scheme if isinstance(scheme, str) else None


def _croissant_version(release: Path) -> str | None:
    """The ``conformsTo`` of a release's croissant.json (None if absent or unreadable)."""
    try:
        value = json.loads((release / CROISSANT).read_text(encoding="utf-8")).get("conformsTo")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
