"""What a release is, derived from the schema: document rows (``rows``), training configs
(``training``), Hugging Face features (``features``), the card (``card``, ``tables``), Croissant
(``croissant``), SemVer for data (``versioning``) and reading existing releases (``lookup``).

Used by the build (:mod:`khabar.release`) and the gate (:mod:`khabar.gate`) alike; imports neither.
"""
