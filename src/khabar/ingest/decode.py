"""Raw seed bytes -> text, with the encoding found and how it was found.

Accepted: UTF-8 (strict), UTF-8 with BOM, UTF-16 with BOM, and Windows-1256 (cp1256) when
``charset-normalizer`` is sure of it or the encoding is declared. Nothing is ever decoded with
``errors="ignore"`` or ``"replace"``. Short legacy files are where detectors guess wrong
(14 bytes of cp1256 come back as cp1255, Hebrew), so when the detector is not sure, ingest
stops and names the encodings that would give Arabic text, for the user to declare one.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from khabar.core.errors import InputError

__all__ = ["Decoded", "decode_seed", "arabic_script_ratio", "DECLARABLE"]

DECLARABLE = ("utf-8", "utf-16-le", "utf-16-be", "cp1256")
_BOMS = ((codecs.BOM_UTF32_LE, None), (codecs.BOM_UTF32_BE, None), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_LEGACY_ARABIC = ("cp1256", "iso8859_6", "cp720", "cp864")
# a Latin (or Latin-1 supplement) letter glued to an Arabic letter: the mark of a wrong legacy decoding
_MOJIBAKE = re.compile("[\u0621-\u064a][A-Za-z\u00c0-\u024f]|[A-Za-z\u00c0-\u024f][\u0621-\u064a]")


@dataclass(frozen=True)
class Decoded:
    """A decoded seed. ``bom_bytes`` bytes at the start of the raw file were a BOM."""

    text: str
    encoding: str          # utf-8 | utf-8-sig | utf-16-le | utf-16-be | cp1256
    encoding_source: str   # bom | utf-8-strict | detected | declared
    bom_bytes: int


_LETTER = re.compile(r"[^\W\d_]")
_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff](?<=[^\\W\\d_])")


def arabic_script_ratio(text: str) -> float:
    """Share of letters (word characters that are not digits or _) in the Arabic blocks; 0.0 with no letters."""
    letters = len(_LETTER.findall(text))
    return len(_ARABIC_LETTER.findall(text)) / letters if letters else 0.0


_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Unicode Cc less \t \n \v \f \r


def _is_binary(text: str) -> bool:
    """More than 1% control characters (category Cc other than white space): not a text."""
    bad = len(_CONTROL_CHARS.findall(text))
    return bad > 0 and bad >= max(1, len(text) // 100)


def _strict(raw: bytes, encoding: str, name: str, bom: int) -> str:
    try:
        return raw[bom:].decode(encoding.replace("-sig", ""), errors="strict")
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: not valid {encoding}: byte 0x{raw[bom + err.start]:02x} at offset {bom + err.start}") from None


def decode_seed(raw: bytes, name: str, declared: str | None = None) -> Decoded:
    """Decode a seed file's bytes.

    Args:
        raw: the file's bytes, exactly as received.
        name: the file name, for messages.
        declared: an encoding from :data:`DECLARABLE` declared for this file, or None.

    Raises:
        InputError: empty file; UTF-32; binary content (control characters, NUL bytes);
            bytes invalid in the declared or detected encoding; a non-UTF-8 file whose
            encoding the detector is not sure of (the message lists what would decode to Arabic).
    """
    if not raw:
        raise InputError(f"{name}: empty file")
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            if enc is None:
                raise InputError(f"{name}: UTF-32 is not supported", hint="save the file as UTF-8")
            if declared and declared.replace("-sig", "") != enc.replace("-sig", ""):
                raise InputError(f"{name}: declared {declared} but the file starts with a {enc} byte-order mark")
            text = _strict(raw, enc, name, len(bom))
            if not text:
                raise InputError(f"{name}: empty file (only a byte-order mark)")
            return _checked(Decoded(text, enc, "bom", len(bom)), name)
    if declared:
        if declared not in DECLARABLE:
            raise InputError(f"{name}: cannot declare encoding {declared!r}", hint=f"use one of {', '.join(DECLARABLE)}")
        text = _strict(raw, declared, name, 0)
        if declared == "cp1256" and _MOJIBAKE.search(text):
            m = _MOJIBAKE.search(text)
            raise InputError(f"{name}: declared {declared} gives Latin letters inside Arabic words ({text[max(0, m.start() - 8):m.end() + 8]!r}): "
                             "not its encoding", hint="try another encoding, or convert the file to UTF-8")
        return _checked(Decoded(text, declared, "declared", 0), name)
    if b"\x00" in raw:
        raise InputError(f"{name}: binary file (NUL bytes, no UTF-16 byte-order mark)",
                         hint="if it is UTF-16 without a BOM, declare utf-16-le or utf-16-be")
    try:
        return _checked(Decoded(raw.decode("utf-8"), "utf-8", "utf-8-strict", 0), name)
    except UnicodeDecodeError as err:
        utf8_error = f"not UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start})"
        damaged = raw.decode("utf-8", errors="replace")
        bad = damaged.count("\ufffd")
        if err.reason == "unexpected end of data" and err.end == len(raw):
            raise InputError(f"{name}: truncated: the file ends inside a multibyte UTF-8 character (offset {err.start})",
                             hint="get the complete file again") from None
        if bad <= max(3, len(damaged) // 200) and arabic_script_ratio(damaged) >= 0.5:
            raise InputError(f"{name}: damaged UTF-8: {bad} invalid byte sequence(s), the first at offset {err.start}",
                             hint="get an undamaged copy of the file; it is UTF-8 apart from these bytes") from None
    best = from_bytes(raw).best()
    if best is not None and best.encoding == "cp1256":
        text = str(best)
        if arabic_script_ratio(text) >= 0.5 and not _MOJIBAKE.search(text):
            return _checked(Decoded(_strict(raw, "cp1256", name, 0), "cp1256", "detected", 0), name)
    options = []
    declarable = []
    for enc in _LEGACY_ARABIC:
        try:
            candidate = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if arabic_script_ratio(candidate) >= 0.9 and not _is_binary(candidate) and not _MOJIBAKE.search(candidate):
            options.append(f"{enc} gives {candidate[:30]!r}")
            if enc in DECLARABLE:
                declarable.append(enc)
    guess = best.encoding if best is not None else "nothing"
    if not options:
        raise InputError(f"{name}: {utf8_error}, and no Arabic legacy encoding decodes it (detector: {guess}); binary or damaged file")
    hint = (f"declare the encoding: khabar ingest --encoding {name}={declarable[0]}" if declarable else
            f"convert the file to UTF-8 (only {', '.join(DECLARABLE)} can be declared)")
    raise InputError(f"{name}: {utf8_error}; the encoding detector is not sure (best guess {guess}); " + "; ".join(options),
                     hint=hint)


def _checked(d: Decoded, name: str) -> Decoded:
    if _is_binary(d.text):
        raise InputError(f"{name}: binary file (control characters in the {d.encoding} text)")
    if not d.text.strip():
        raise InputError(f"{name}: empty file (whitespace only)")
    return d
