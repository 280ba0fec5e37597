"""Retraining the served model on annotations submitted in Label Studio (the ML backend's
``START_TRAINING``): the model's release ``train`` gold plus the submitted annotations of ``train``
documents, never of ``validation`` or ``test`` ones (they stay unseen for the figures).

Public API: :class:`LiveModel`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from khabar.baseline.run import load_release_rows
from khabar.baseline.trainer import train_rows
from khabar.core.errors import InputError
from khabar.core.jsonio import load_json
from khabar.dataset.rows import split_for
from khabar.model.artifact import Model

__all__ = ["LiveModel"]

log = logging.getLogger(__name__)


class LiveModel:
    """The model a backend serves, swapped for a retrained one when retraining finishes.

    Args:
        model: the loaded model (``khabar train``'s).
        project: the :class:`khabar.core.project.Project` (its ``releases/`` and ``corpus/``).
        scheme: the Label Studio :class:`khabar.studio.config.Scheme` (to read submitted results).
    """

    def __init__(self, model: Model, project: Any, scheme: Any):
        self.model = model
        self.project = project
        self.scheme = scheme
        self.release = str(model.meta.get("training", {}).get("release"))  # every retraining starts from it
        self._lock = threading.Lock()

    def annotate(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The current model's :meth:`khabar.model.Model.annotate`."""
        with self._lock:
            model = self.model
        return model.annotate(doc)

    @property
    def version(self) -> str:
        return self.model.version

    def _submitted(self, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """Documents (``documents``-config shape, names) of the submitted annotations of ``train``
        documents whose text is the corpus's; the reasons others were left out."""
        from khabar.studio.to_annotation import results_to_annotation

        docs: dict[str, dict[str, Any]] = {}
        skipped = []
        for r in records:
            doc_id = r.get("doc_id")
            if not isinstance(doc_id, str) or split_for(doc_id) != "train":
                skipped.append(f"annotation {r.get('annotation')}: document {doc_id} is not in the train split")
                continue
            try:
                doc = load_json(self.project.corpus_file(doc_id))
                if r.get("text_sha256") not in (None, doc["text_sha256"]):
                    raise InputError("made on another text of the document")
                items, _ = results_to_annotation(r.get("result") or [], doc["text"], self.scheme, f"annotation {r.get('annotation')}")
            except Exception as err:  # noqa: BLE001 - one bad submission never stops a retraining
                skipped.append(f"annotation {r.get('annotation')}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
                continue
            docs[doc_id] = {"id": doc_id, "text": doc["text"], "text_sha256": doc["text_sha256"], "sentences": doc["sentences"],
                            "entities": items["entities"], "claims": items["claims"], "annotation": {"annotated": True}}
        return list(docs.values()), skipped

    def retrain(self, records: list[dict[str, Any]]) -> str:
        """Train anew on the release's ``train`` gold with the submitted annotations of ``train``
        documents (a submitted document replaces its release gold), swap the model in, return
        its version. With no usable submission, nothing is trained and the version stays. The
        open NER data a model was trained ``--with`` is not joined again.

        Raises:
            InputError: the model's release is not in ``releases/``.
        """
        submitted, skipped = self._submitted(records)
        for why in skipped:
            log.warning("not learned from: %s", why)
        if not submitted:
            log.info("no submitted annotation of a train document: the model stays %s", self.version)
            return self.version
        rows, features = load_release_rows(self.project.releases / self.release, "documents")
        mine = {d["id"] for d in submitted}
        train = [d for d in rows.get("train", []) if d["id"] not in mine] + submitted
        model, _ = train_rows({"train": train, "test": rows.get("test", [])}, list(features["entities"].feature["type"].names),
                              self.release, submitted=sorted(mine))
        log.info("retrained on release %s train gold with %d submitted document(s): %s", self.release, len(mine), model.version)
        with self._lock:
            self.model = model
        return model.version
