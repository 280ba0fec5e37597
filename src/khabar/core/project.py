"""Where the project's folders are.

The project root is, in order: ``$KHABAR_ROOT``; the nearest folder at or above the
current directory that holds ``schema/labels.schema.json``; the checkout this package
was installed from (editable installs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from khabar.core.errors import InputError

__all__ = ["Project", "find_root", "inside_releases", "GOLD", "CONFLICTS", "PREANNOTATOR", "ANNOTATORS",
           "DRAFT_SUFFIX", "NOT_ANNOTATORS", "GUIDELINES", "STUDIO_DATA", "STUDIO_VENV", "ANNOTATOR_MAP", "MANIFEST", "STUDIO_BACKEND", "BACKEND_RECEIVED",
           "MODEL_META", "MODEL_CARD", "MODEL_CRFS", "MODELS"]

_MARKER = Path("schema") / "labels.schema.json"

#: file names inside ``annotations/<doc_id>/`` (and the registry beside the documents' folders)
GOLD = "gold.json"                #: the document's gold annotation (adjudicated or accepted)
CONFLICTS = "conflicts.json"      #: open adjudication conflicts (``schema/conflicts.schema.json``)
PREANNOTATOR = "preannotator.json"  #: the pre-annotator's proposals
ANNOTATORS = "annotators.json"    #: ``annotations/annotators.json``: the annotator registry
DRAFT_SUFFIX = ".draft"           #: ``<annotator>.draft.json``: an unsubmitted Label Studio draft
#: file stems next to annotator files that are not an annotator's (reserved annotator names)
NOT_ANNOTATORS = frozenset({"gold", "preannotator", "conflicts", "annotators"})
GUIDELINES = "GUIDELINES.md"      #: ``annotations/GUIDELINES.md``
STUDIO_DATA = ".labelstudio"      #: the Label Studio server's data folder (git-ignored)
STUDIO_VENV = ".venv-studio"      #: the Label Studio server's own virtualenv (git-ignored)
ANNOTATOR_MAP = "annotator-map.json"  #: ``.labelstudio/annotator-map.json``: e-mail -> annotator id
STUDIO_BACKEND = "ml-backend"     #: ``.labelstudio/ml-backend/``: what the Label Studio ML backend received
BACKEND_RECEIVED = "received.jsonl"  #: ``.labelstudio/ml-backend/received.jsonl``: one line per annotation event
MANIFEST = "manifest.jsonl"       #: ``seeds/manifest.jsonl``: one line per seed
#: files of a trained model's folder (``khabar train --out models/<name>``)
MODEL_META = "model.json"         #: what the model is: version, schema version, training data and hashes, settings, figures
MODEL_CARD = "MODEL_CARD.md"      #: the model card (Mitchell et al. 2019)
MODEL_CRFS = ("entities-outer.crfsuite", "entities-inner.crfsuite", "claims.crfsuite")  #: CRFsuite model files
MODELS = "models"                 #: ``models/``: trained models (git-ignored, rebuilt by ``khabar train``)


def find_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the project root (see module docstring).

    Raises:
        InputError: no folder with ``schema/labels.schema.json`` was found.
    """
    env = os.environ.get("KHABAR_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / _MARKER).is_file():
            raise InputError(f"KHABAR_ROOT={env}: no {_MARKER} there")
        return root
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / _MARKER).is_file():
            return folder
    pkg_root = Path(__file__).resolve().parents[3]
    if (pkg_root / _MARKER).is_file():
        return pkg_root
    raise InputError(f"no Khabar project found at or above {here} (looked for {_MARKER})",
                     hint="run inside the khabar checkout or set KHABAR_ROOT")


@dataclass(frozen=True)
class Project:
    """The folders of one Khabar project (all under ``root``)."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @classmethod
    def find(cls, start: str | os.PathLike[str] | None = None) -> "Project":
        """The project at or above ``start`` (see :func:`find_root`)."""
        return cls(find_root(start))

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> "Project":
        """The project whose root is exactly ``root`` (an explicit ``--root``: no search, no fallback).

        Raises:
            InputError: ``root`` has no ``schema/labels.schema.json``.
        """
        path = Path(root)
        if not (path / _MARKER).is_file():
            raise InputError(f"{path}: not a Khabar project (no {_MARKER})", hint="give --root the folder that holds schema/ and seeds/")
        return cls(path.resolve())

    @property
    def seeds(self) -> Path:
        """``seeds/``: raw articles exactly as received."""
        return self.root / "seeds"

    @property
    def manifest(self) -> Path:
        """``seeds/manifest.jsonl``: one line per seed (id, provenance)."""
        return self.seeds / MANIFEST

    @property
    def corpus(self) -> Path:
        """``corpus/``: one ``<doc_id>.json`` per ingested document."""
        return self.root / "corpus"

    @property
    def schema(self) -> Path:
        """``schema/``: the JSON Schemas and registries."""
        return self.root / "schema"

    @property
    def annotations(self) -> Path:
        """``annotations/``: one folder per document, the annotator registry and the guidelines."""
        return self.root / "annotations"

    @property
    def releases(self) -> Path:
        """``releases/``: one immutable folder per release version."""
        return self.root / "releases"

    @property
    def annotators_registry(self) -> Path:
        """``annotations/annotators.json``: who each pseudonymous annotator is."""
        return self.annotations / ANNOTATORS

    @property
    def guidelines(self) -> Path:
        """``annotations/GUIDELINES.md``: the annotation guidelines."""
        return self.annotations / GUIDELINES

    @property
    def studio_data(self) -> Path:
        """``.labelstudio/``: the local Label Studio server's data (git-ignored)."""
        return self.root / STUDIO_DATA

    @property
    def studio_venv(self) -> Path:
        """``.venv-studio/``: the Label Studio server's virtualenv (git-ignored)."""
        return self.root / STUDIO_VENV

    @property
    def annotator_map(self) -> Path:
        """``.labelstudio/annotator-map.json``: Label Studio e-mail -> pseudonymous annotator id."""
        return self.studio_data / ANNOTATOR_MAP

    @property
    def studio_backend_dir(self) -> Path:
        """``.labelstudio/ml-backend/``: the ML backend's records (``received.jsonl``, git-ignored
        with the rest of the server's data)."""
        return self.studio_data / STUDIO_BACKEND

    def doc_folder(self, doc_id: str) -> Path:
        """``annotations/<doc_id>/``: every annotation file of one document."""
        return self.annotations / doc_id

    def gold(self, doc_id: str) -> Path:
        """``annotations/<doc_id>/gold.json``."""
        return self.annotations / doc_id / GOLD

    def conflicts(self, doc_id: str) -> Path:
        """``annotations/<doc_id>/conflicts.json``."""
        return self.annotations / doc_id / CONFLICTS

    def preannotator_file(self, doc_id: str) -> Path:
        """``annotations/<doc_id>/preannotator.json``."""
        return self.annotations / doc_id / PREANNOTATOR

    def annotator_file(self, doc_id: str, annotator: str, *, draft: bool = False) -> Path:
        """``annotations/<doc_id>/<annotator>.json`` (``<annotator>.draft.json`` with ``draft``)."""
        return self.annotations / doc_id / f"{annotator}{DRAFT_SUFFIX if draft else ''}.json"

    def corpus_file(self, doc_id: str) -> Path:
        """``corpus/<doc_id>.json``."""
        return self.corpus / f"{doc_id}.json"

    def release(self, version: str) -> Path:
        """``releases/<version>/``."""
        return self.releases / version

    @property
    def datasheet(self) -> Path:
        """``DATASHEET.md``: the datasheet copied into each release."""
        return self.root / "DATASHEET.md"

    @property
    def changelog(self) -> Path:
        """``CHANGELOG.md``: release and toolkit history."""
        return self.root / "CHANGELOG.md"


def inside_releases(project: Project, path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (existing or not; relative to the current directory) is the project's
    ``releases/`` folder or anything below it, ``..`` and symbolic links resolved. Releases are
    immutable once built (their files are checksummed), so commands that write files refuse such
    a path."""
    releases = project.releases.resolve()
    target = Path(path).resolve()
    return target == releases or releases in target.parents
