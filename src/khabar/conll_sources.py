"""The rows a CoNLL export reads (see :mod:`khabar.conll_export`): a release's ``documents``
config, or the corpus with one annotator's files. Each row is a ``documents`` row with label
names: ``id``, ``text``, ``paragraphs``, ``sentences``, ``entities``, ``annotation``.

* :func:`release_rows`: the parquet files the card's ``documents`` config declares, read with
  pyarrow one row group at a time, their ClassLabel ids decoded with the ``datasets`` features
  stored in each file; an id out of range (a file changed after the build) is refused naming
  the file, row, document and field.
* :func:`corpus_rows`: ``corpus/<doc_id>.json`` with ``annotations/<doc_id>/<annotator>.json``,
  each checked against its document (:func:`khabar.annotations.load_checked_annotation`);
  order: by seed file name (as the seeds manifest records it), then id, so that the documents of
  a ``--per paragraph`` import come back in paragraph order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pyarrow.parquet as pq
import yaml
from datasets import ClassLabel, Features, List
from tqdm import tqdm

from .annotations import load_checked_annotation
from .errors import InputError
from .features import make_decoder
from .jsonio import load_json
from .paths import Project
from .releases import latest_release
from .schema import Schemas
from .seeds import iter_manifest

__all__ = ["release_rows", "corpus_rows", "bad_label"]

COLUMNS = ["id", "text", "paragraphs", "sentences", "entities", "annotation"]


def bad_label(feature: Any, value: Any, path: str = "") -> tuple[str, Any, int] | None:
    """The first ClassLabel id of ``value`` (a raw row, or part of one, of ``feature``) that is
    out of range: ``(field path such as entities[3].type, the id, number of names)``; None if all fit."""
    if isinstance(feature, ClassLabel):
        ok = value is None or (isinstance(value, int) and 0 <= value < feature.num_classes)
        return None if ok else (path, value, feature.num_classes)
    if isinstance(feature, dict) and isinstance(value, dict):
        for k, f in feature.items():
            found = bad_label(f, value.get(k), f"{path}.{k}" if path else k)
            if found:
                return found
    if isinstance(feature, List) and isinstance(value, list):
        for i, v in enumerate(value):
            found = bad_label(feature.feature, v, f"{path}[{i}]")
            if found:
                return found
    return None


def release_rows(project: Project, release: str | None, split: str | None, progress: bool) -> tuple[str, Iterator[dict[str, Any]]]:
    """``(source description, rows)`` of a release (version or folder; default the latest) and
    split (default all), rows decoded to label names.

    Raises:
        InputError: no release; no such release or split; an unreadable card or shard; (while
            iterating) a ClassLabel id out of range, with the file, row, document id and field.
    """
    if release is None:
        found = latest_release(project.releases)
        if found is None:
            raise InputError(f"no release in {project.releases}", hint="build one, or export from the corpus with --corpus")
        folder = found[1]
    else:
        folder = Path(release) if Path(release).is_dir() else project.releases / release
        if not folder.is_dir():
            raise InputError(f"no release {release!r} (neither a folder nor a version under {project.releases})",
                             hint="name a release by version (0.1.0) or folder (releases/0.1.0)")
    card = folder / "README.md"
    try:
        text = card.read_text(encoding="utf-8")
        meta = yaml.safe_load(text[4:text.index("\n---\n", 4)]) if text.startswith("---\n") else None
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise InputError(f"{card}: cannot read the card's YAML front matter ({type(err).__name__})") from None
    files = {}
    for cfg in (meta or {}).get("configs") or []:
        if isinstance(cfg, dict) and cfg.get("config_name") == "documents":
            files = {f["split"]: folder / f["path"] for f in cfg.get("data_files") or []}
    if not files:
        raise InputError(f"{card}: declares no data files of the documents config")
    if split is not None and split not in files:
        raise InputError(f"{folder.name}: no split {split!r} (splits: {', '.join(files)})")
    chosen = [split] if split else list(files)

    def rows() -> Iterator[dict[str, Any]]:
        for s in chosen:
            try:
                pf = pq.ParquetFile(files[s])
                feats = Features.from_arrow_schema(pf.schema_arrow)
                feats = Features({k: feats[k] for k in COLUMNS})
            except Exception as err:  # noqa: BLE001 - any unreadable shard is one message
                raise InputError(f"{files[s]}: cannot read: {type(err).__name__}: {err}".splitlines()[0]) from None
            decode = make_decoder(feats)
            bar = tqdm(total=pf.metadata.num_rows, desc=f"export {s}", unit="doc", disable=not progress)
            n = 0
            for g in range(pf.metadata.num_row_groups):
                for row in pf.read_row_group(g, columns=COLUMNS).to_pylist():
                    bar.update(1)
                    try:
                        decoded = decode(row)
                    except ValueError:
                        where, value, names = bad_label(dict(feats), row) or ("?", None, 0)
                        raise InputError(f"{files[s]}: row {n} (document {row.get('id')}): {where}: ClassLabel id {value!r} "
                                         f"out of range 0..{names - 1}",
                                         hint=f"the file was changed after the release was built; run `khabar validate {folder}`") from None
                    n += 1
                    yield decoded
            bar.close()
    return f"release {folder.name} ({', '.join(chosen)})", rows()


def corpus_rows(project: Project, schemas: Schemas, annotator: str, docs: list[str] | None,
                progress: bool) -> tuple[str, Iterator[dict[str, Any]], int]:
    """``(source description, rows, documents without the file)`` of the corpus with
    ``<annotator>.json`` (an already checked id), all such documents or ``docs`` (checked
    DocIds) in that order.

    Raises:
        InputError: a ``docs`` id with no corpus document or no such file; no document with the
            file at all (the hint names the annotators that have files); (while iterating) an
            invalid or stale annotation file.
    """
    name = f"{annotator}.json"
    if docs:
        for d in docs:
            if not (project.corpus / f"{d}.json").is_file():
                raise InputError(f"--doc {d}: no such corpus document", hint="document ids are the names of corpus/*.json")
            if not (project.annotations / d / name).is_file():
                raise InputError(f"--doc {d}: no annotation file {project.annotations / d / name}")
        ids = list(docs)
    else:
        ids = sorted(p.parent.name for p in project.annotations.glob(f"kb-*/{name}") if (project.corpus / f"{p.parent.name}.json").is_file())
        if not ids:
            have = sorted({p.stem for p in project.annotations.glob("kb-*/*.json")
                           if (project.corpus / f"{p.parent.name}.json").is_file()})
            raise InputError(f"--annotator {annotator}: no corpus document has an annotation file {project.annotations}/<doc_id>/{name}",
                             hint="files there: " + (", ".join(have) if have else "none"))
        seed_of = {e["doc_id"]: e["seed_file"] for e in iter_manifest(project.manifest, schemas, []) if e["doc_id"] in set(ids)}
        ids.sort(key=lambda d: (seed_of.get(d, "\uffff"), d))
    total = sum(1 for p in project.corpus.glob("kb-*.json")) if project.corpus.is_dir() else 0

    def rows() -> Iterator[dict[str, Any]]:
        for d in tqdm(ids, desc="export", unit="doc", disable=not progress):
            doc = load_json(project.corpus / f"{d}.json")
            ann = load_checked_annotation(project.annotations / d / name, doc, schemas)
            yield {"id": d, "text": doc["text"], "paragraphs": doc["paragraphs"], "sentences": doc["sentences"],
                   "entities": ann["entities"], "annotation": {"annotated": True}}
    return f"corpus/ + {name}", rows(), 0 if docs else total - len(ids)  # with --doc, the others were not asked for
