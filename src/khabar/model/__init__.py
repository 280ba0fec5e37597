"""The trained pre-annotator: CRF entity and claim models learned from the corpus's gold
(``khabar train``), saved as a versioned folder and loaded by ``khabar preannotate --model`` and
the Label Studio ML backend.

Modules: ``features`` (token features), ``entities`` (the two-layer entity CRF and the clitic
rule), ``claims`` (the claim CRF and its rules), ``artifact`` (the model folder and :class:`Model`).
"""

from khabar.model.artifact import Model, load_model, model_from_training, save_model

__all__ = ["Model", "load_model", "save_model", "model_from_training"]
