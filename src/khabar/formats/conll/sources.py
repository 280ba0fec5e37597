"""The rows a CoNLL export reads (see :mod:`khabar.formats.conll.exporter`): a release's ``documents``
config, or the corpus with one annotator's files. Each row is a ``documents`` row with label
names: ``id``, ``text``, ``paragraphs``, ``sentences``, ``entities``, ``annotation``.

* :func:`release_rows`: the parquet files the card's ``documents`` config declares, read by
  :func:`khabar.dataset.lookup.iter_shard_rows` (an id out of range, a file changed after the build, is
  refused naming the file, row, document and field).
* :func:`corpus_rows`: ``corpus/<doc_id>.json`` with ``annotations/<doc_id>/<annotator>.json``,
  each checked against its document (:func:`khabar.annotate.files.load_checked_annotation`);
  order: by seed file name (as the seeds manifest records it), then id, so that the documents of
  a ``--per paragraph`` import come back in paragraph order.

Public API: :func:`release_rows`, :func:`corpus_rows`.
"""

from __future__ import annotations

from typing import Any, Iterator

from tqdm import tqdm

from khabar.annotate.files import load_checked_annotation
from khabar.core.errors import InputError
from khabar.core.jsonio import load_json
from khabar.core.project import Project
from khabar.dataset.lookup import card_yaml_of, declared_files, iter_shard_rows, latest_release, release_dir
from khabar.core.schema import Schemas
from khabar.ingest.seeds import iter_manifest
from khabar.dataset.layout import CARD

__all__ = ["release_rows", "corpus_rows"]

COLUMNS = ["id", "text", "paragraphs", "sentences", "entities", "annotation"]


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
        folder = release_dir(project.releases, release)
    card = folder / CARD
    try:
        meta = card_yaml_of(card.read_bytes())
        files = {s: folder / p for s, p in declared_files(meta, "documents").items()}
    except OSError as err:
        raise InputError(f"{card}: cannot read: {err.strerror}") from None
    except InputError as err:
        raise InputError(f"{card}: cannot read the card's YAML front matter: {err}",
                         hint=f"check the release with `khabar validate {folder}`") from None
    if not files:
        raise InputError(f"{card}: declares no data files of the documents config")
    if split is not None and split not in files:
        raise InputError(f"{folder.name}: no split {split!r} (splits: {', '.join(files)})")
    chosen = [split] if split else list(files)
    hint = f"the file was changed after the release was built; run `khabar validate {folder}`"

    def rows() -> Iterator[dict[str, Any]]:
        for s in chosen:
            with tqdm( desc=f"export {s}", unit="doc", disable=not progress) as bar:
                for row in iter_shard_rows(files[s], COLUMNS, hint, id_name="document"):
                    bar.update(1)
                    yield row
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
    some_file = project.annotator_file("<doc_id>", annotator)
    if docs:
        for d in docs:
            if not project.corpus_file(d).is_file():
                raise InputError(f"--doc {d}: no such corpus document", hint="document ids are the names of corpus/*.json")
            if not project.annotator_file(d, annotator).is_file():
                raise InputError(f"--doc {d}: no annotation file {project.annotator_file(d, annotator)}")
        ids = list(docs)
    else:
        ids = sorted(p.parent.name for p in project.annotations.glob(f"kb-*/{some_file.name}")
                     if project.corpus_file(p.parent.name).is_file())
        if not ids:
            have = sorted({p.stem for p in project.annotations.glob("kb-*/*.json") if project.corpus_file(p.parent.name).is_file()})
            raise InputError(f"--annotator {annotator}: no corpus document has an annotation file {some_file}",
                             hint="files there: " + (", ".join(have) if have else "none"))
        seed_of = {e["doc_id"]: e["seed_file"] for e in iter_manifest(project.manifest, schemas, []) if e["doc_id"] in set(ids)}
        ids.sort(key=lambda d: (seed_of.get(d, "\uffff"), d))
    total = sum(1 for p in project.corpus.glob("kb-*.json")) if project.corpus.is_dir() else 0

    def rows() -> Iterator[dict[str, Any]]:
        for d in tqdm(ids, desc="export", unit="doc", disable=not progress):
            doc = load_json(project.corpus_file(d))
            ann = load_checked_annotation(project.annotator_file(d, annotator), doc, schemas)
            yield {"id": d, "text": doc["text"], "paragraphs": doc["paragraphs"], "sentences": doc["sentences"],
                   "entities": ann["entities"], "annotation": {"annotated": True}}
    return f"corpus/ + {some_file.name}", rows(), 0 if docs else total - len(ids)  # with --doc, the others were not asked for
