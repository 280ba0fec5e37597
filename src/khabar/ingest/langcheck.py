"""Language identification of a text of record.

Uses ``lingua-language-detector`` (offline models shipped in the wheel) restricted to the
languages a news seed could plausibly be in, Persian and Urdu included, since seeds that are
machine translations from Persian are expected. A text is accepted as Arabic when lingua's
top language is Arabic with confidence >= 0.5 and at least half of its letters are in the
Arabic script blocks.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from khabar.ingest.decode import arabic_script_ratio

__all__ = ["detect_language", "SAMPLE_CHARS", "MIN_CONFIDENCE"]

SAMPLE_CHARS = 600
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector_name() -> str:
    from importlib.metadata import version

    return f"lingua {version('lingua-language-detector')}"


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    langs = [Language.ARABIC, Language.PERSIAN, Language.URDU, Language.ENGLISH, Language.FRENCH,
             Language.TURKISH, Language.HEBREW, Language.SPANISH, Language.GERMAN, Language.RUSSIAN]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect_language(text: str) -> dict[str, Any]:
    """Detect the language of ``text`` from :data:`SAMPLE_CHARS` code points taken from its beginning,
    middle and end; the Arabic-script ratio is over the whole text.

    Returns:
        ``{"lang": ISO 639-1 code or None, "confidence": float in [0, 1],
        "arabic_script_ratio": float, "detector": "lingua <version>"}``.
    """
    third = SAMPLE_CHARS // 3  # beginning, middle and end: a preamble cannot decide alone
    mid = len(text) // 2
    sample = text if len(text) <= SAMPLE_CHARS else " ".join((text[:third], text[mid - third // 2:mid + third // 2], text[-third:]))
    values = _detector().compute_language_confidence_values(sample)
    top = values[0] if values else None
    code = top.language.iso_code_639_1.name.lower() if top is not None and top.value > 0 else None
    return {
        "lang": code,
        "confidence": round(float(top.value), 4) if top is not None else 0.0,
        "arabic_script_ratio": round(arabic_script_ratio(text), 4),
        "detector": _detector_name(),
    }
