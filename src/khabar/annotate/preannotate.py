"""``khabar preannotate``: entities and claims proposed without any downloaded model.

Entities come from gazetteers (``khabar/annotate/gazetteers/*.tsv``: countries and capitals, governments
and ministries, armed forces and groups, news agencies and channels, offices and titles, well-known
people) and patterns (Arabic and Latin dates and numbers, percentages, money and quantities with
units, ordinals); claims come from reporting cues (قال، أعلن، أكد، أضاف، زعم، نقل، كشف، اعترف …)
with the content clause after أن/إن or a colon and the nearest fitting source. The output is an
annotation file (``schema/annotation.schema.json``) whose ``origin`` names this pre-annotator and
its :data:`VERSION`; Label Studio shows it as predictions for annotators to correct.

Spans follow the annotation guidelines (``annotations/GUIDELINES.md``): proclitics و ف ب ك ل are
outside a span, the article ال inside (after ل the article's alef drops: ``للحكومة`` -> ``لحكومة``).
Offsets are Unicode code points, half-open, into the document's text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from importlib import resources
from typing import Any

from khabar.annotate.staging import Staged
from khabar.text.normalview import NormalView

__all__ = ["preannotate", "preannotate_corpus", "VERSION", "TOOL", "find_entities", "find_claims"]

TOOL = "khabar-preannotate"
VERSION = "0.2.0"  # 0.2.0: guideline cues (نفى، اتهم، طالب، دعا), DATE periods (D21, D49), the normalised view
_AR = "\u0621-\u064a\u0671-\u06d3\u0660-\u0669"  # Arabic letters and digits
_PROCLITIC = "(?:[وف]?[بكل]?|[وف])"
_NOT_WORD_BEFORE = f"(?<![{_AR}A-Za-z0-9])"
_NOT_WORD_AFTER = f"(?![{_AR}A-Za-z0-9])"
_MONTHS = ("يناير|فبراير|مارس|أبريل|إبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر|"
           "كانون الثاني|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين الأول|تشرين الثاني|كانون الأول|"
           "محرم|صفر|ربيع الأول|ربيع الآخر|جمادى الأولى|جمادى الآخرة|رجب|شعبان|رمضان|شوال|ذو القعدة|ذو الحجة")
_NUM = r"[0-9٠-٩]+(?:[.,٫][0-9٠-٩]+)?"
_UNITS = "كيلومترا|كيلومتر|كم|مترا|متر|ميلا|ميل|طنا|طن|كيلوغراما|كيلوغرام|كغ|برميلا|برميل|ميغاواط|لترا|لتر|هكتارا|هكتار"
_CURRENCIES = "دولار|دولارا|يورو|دينار|دينارا|ريال|ريالا|جنيه|جنيها|ليرة|درهم|درهما|تومان"
_SCALE = r"(?:\s(?:ألف|آلاف|مليون|ملايين|مليار|مليارات))?"
_PATTERNS: list[tuple[str, str]] = [
    ("DATE", rf"{_NUM}\s(?:{_MONTHS})(?:/(?:{_MONTHS}))?(?:\s(?:عام\s)?[0-9٠-٩]{{4}})?"),
    ("DATE", rf"(?:{_MONTHS})\s(?:عام\s)?[0-9٠-٩]{{4}}"),
    ("DATE", r"(?:عام|سنة)\s[0-9٠-٩]{3,4}(?:\sم|\sهـ)?"),
    ("DATE", r"(?:قبل|منذ|خلال)\s(?:(?:عدة|بضعة|[0-9٠-٩]+)\s)?(?:يومين|أيام|يوم|أسبوعين|أسابيع|أسبوع|شهرين|أشهر|شهور|شهر|سنتين|سنوات|سنة|أعوام|عامين)"
             r"(?:\s(?:الماضية|الماضي|المقبلة|المقبل|الأخيرة))?"),
    ("DATE", r"(?:الأسبوع|الشهر|العام|اليوم)\s(?:الماضي|المقبل|الحالي|الجاري)"),
    # periods with a free-standing temporal preposition and a count (GUIDELINES D21, D49)
    ("DATE", rf"(?:(?:منذ|خلال|قبل|بعد|حتى|طوال|مدة|على مدى|اعتبارا من)\s)?(?:أكثر من\s|أقل من\s|نحو\s)?"
             rf"(?:{_NUM}|عدة|بضعة|ثلاثة|أربعة|خمسة|ستة|سبعة|ثمانية|تسعة|عشرة|ثلاث|أربع|خمس|ست|سبع|ثماني|تسع|عشر)\s"
             r"(?:أيام|أسابيع|أشهر|شهور|سنوات|أعوام|عقود|ساعات|دقائق|يوما|أسبوعا|شهرا|عاما|سنة)"
             r"(?:\s(?:الماضية|الماضي|المقبلة|المقبل|الأخيرة|القادمة|القادم|الأولى))?"),
    ("DATE", r"(?:(?:منذ|خلال|حتى|قبل|بعد)\s)?(?:أكثر من\s)?(?:يومين|أسبوعين|شهرين|سنتين|عامين)(?:\s(?:الماضيين|الماضيتين|المقبلين|المقبلتين|الأخيرين))?"),
    ("DATE", r"(?:(?:حتى|منذ)\s)?(?:(?:نهاية|بداية|مطلع|أواخر|أوائل)\s)?(?:الموسم|السنة|العام|الشهر|الأسبوع)\s"
             r"(?:الحالي|الجاري|الحالية|الجارية|الماضي|الماضية|المقبل|المقبلة|القادم|القادمة|الأخير|الأخيرة)"),
    ("DATE", rf"(?:(?:{_MONTHS})\s(?:الماضي|المقبل|القادم|الجاري))|(?:(?:فصل|هذا)\s)?(?:الصيف|الشتاء|الربيع|الخريف)|"
             r"هذا\s(?:الأسبوع|الشهر|العام|الموسم)|موسم\s[0-9٠-٩]{4}|(?:عام|يوم)\s(?:كامل|واحد)"),
    ("DATE", r"الأشهر\s(?:الثلاثة|الستة|القليلة|الأخيرة)\s?(?:الماضية|الأخيرة)?|السنوات\s(?:العشر|الخمس|الأخيرة)\s?(?:الماضية)?"),
    ("DATE", r"أمس|اليوم|غدا|غدًا"),
    ("TIME", r"(?:الساعة\s)?[0-9٠-٩]{1,2}:[0-9٠-٩]{2}(?:\s(?:صباحا|مساء|مساءً|صباحًا))?"),
    ("PERCENT", rf"{_NUM}\s?(?:%|٪|في المئة|في المائة|بالمئة|بالمائة)"),
    ("MONEY", rf"{_NUM}{_SCALE}\s(?:{_CURRENCIES})(?:\s(?:أمريكي|أميركي))?"),
    ("QUANTITY", rf"{_NUM}{_SCALE}\s(?:{_UNITS})"),
    ("ORDINAL", r"(?<=[ل\s])أول(?=\s)|الأول(?:ى)?|الثاني(?:ة)?|الثالث(?:ة)?|الرابع(?:ة)?|الخامس(?:ة)?"),
    ("CARDINAL", rf"{_NUM}{_SCALE}"),
]
_CUES = ("قال|قالت|يقول|تقول|أعلن|أعلنت|يعلن|تعلن|أكد|أكدت|يؤكد|تؤكد|أضاف|أضافت|زعم|زعمت|يزعم|نقل|نقلت|كشف|كشفت|"
         "اعترف|اعترفت|ذكر|ذكرت|أفاد|أفادت|صرح|صرحت|أوضح|أوضحت|كتب|كتبت|أشار|أشارت|حذر|حذرت|توقع|توقعت|يتوقع|"
         "نفى|نفت|ينفي|تنفي|اتهم|اتهمت|يتهم|تتهم|طالب|طالبت|يطالب|تطالب|دعا|دعت|يدعو|تدعو|"
         "بحسب|حسب|وفقا ل|وفقًا ل|وفقاً ل")  # with the cues of annotations/GUIDELINES.md §4.2 (نفى، اتهم، طالب, issue 12)
_CUE = re.compile(rf"{_NOT_WORD_BEFORE}[وف]?({_CUES})(?:\s+(?:أيضا|أيضًا))?{_NOT_WORD_AFTER}")
_SOURCE_TYPES = ("PERS", "ORG", "GPE", "NORP", "OCC")


@lru_cache(maxsize=1)
def _gazetteer() -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    folder = resources.files("khabar.annotate") / "gazetteers"
    for name in ("gpe.tsv", "org.tsv", "titles.tsv", "people.tsv"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                surface, typ = line.split("\t")
                entries.append((surface, typ))
    for line in (folder / "gentilics.tsv").read_text(encoding="utf-8").splitlines():
        stem = line.split("\t")[0]
        for suffix in ("يتين", "يين", "يون", "يان", "ية", "ي"):
            entries.append(("ال" + stem + suffix, "GENTILIC"))
    return sorted(entries, key=lambda e: -len(e[0]))


@lru_cache(maxsize=1)
def _gentilic_stems() -> list[str]:
    text = (resources.files("khabar.annotate") / "gazetteers" / "gentilics.tsv").read_text(encoding="utf-8")
    return [re.escape(line.split("\t")[0]) for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def _gazetteer_regex() -> re.Pattern[str]:
    alts = "|".join(re.escape(s) for s, _ in _gazetteer())
    # proclitics outside the span; "ل" + "ال…" contracts to "لل…": match the article's second ل
    return re.compile(rf"{_NOT_WORD_BEFORE}(?:{_PROCLITIC})(?:(?<=ل)(?=ل))?({alts}|{'|'.join(re.escape(s[1:]) for s, _ in _gazetteer() if s.startswith('ال'))}){_NOT_WORD_AFTER}")


def _lookup(surface: str) -> str | None:
    for s, typ in _gazetteer():
        if s == surface or ("ال" + surface[1:] == s and surface.startswith("ل")):
            return typ
    return None


def find_entities(text: str) -> list[dict[str, Any]]:
    """Entity mentions in ``text``: ``[{start, end, text, type}]`` sorted by start, longest first.

    Organisation and title phrases nest: ``وزارة الدفاع الأمريكية`` gives ORG with GPE
    ``الأمريكية`` inside; ``رئيس الوزراء العراقي`` gives OCC with GPE ``العراقي`` inside.
    """
    found: dict[tuple[int, int], str] = {}
    by_surface: dict[str, str] = {}
    for s, t in _gazetteer():  # a listed name (people.tsv: السوداني) wins over a generated nationality form
        if t != "GENTILIC" or s not in by_surface:
            by_surface[s] = t
    for m in _gazetteer_regex().finditer(text):
        s, e = m.span(1)
        surface = m.group(1)
        typ = by_surface.get(surface) or by_surface.get("ا" + surface) or "ORG"
        if surface.startswith("ل") and surface not in by_surface:  # لل contraction: "لحكومة" is "الحكومة"
            typ = by_surface.get("ا" + surface, typ)
        found.setdefault((s, e), typ)
    # institutions: وزارة/الحكومة/القوات/الجيش/… + optional nationality adjective(s)
    inst = re.compile(rf"{_NOT_WORD_BEFORE}(?:{_PROCLITIC})((?:وزارة|وزير|ل?لحكومة|الحكومة|حكومة|القوات|قوات|الجيش|جيش|السلطات|البرلمان|مجلس|السفارة)"
                      rf"(?:\s(?:الدفاع|الخارجية|الداخلية|الصحة|المالية|النفط|العدل|الخزانة|الأمن|النواب|الوزراء|الشعب))?"
                      rf"(?:\s(?:المسلحة|العسكرية|الوطنية|الخاصة|المقاومة|التحالف|الأمن))?"
                      rf"\s(ال(?:{'|'.join(_gentilic_stems())})(?:ية|ي|يين|يون)))"
                      rf"{_NOT_WORD_AFTER}")
    for m in inst.finditer(text):
        head = m.group(1).split()[0]
        typ = "OCC" if head == "وزير" else "ORG"
        found[(m.start(1), m.end(1))] = typ
        found[(m.start(2), m.end(2))] = "GPE"
    # a title followed by a nationality adjective: "الرئيس الفرنسي", "رئيس الوزراء العراقي" (OCC ⊃ GPE)
    titles = "|".join(re.escape(s) for s, t in _gazetteer() if t == "OCC" and not s.endswith("باسم"))
    for m in re.finditer(rf"{_NOT_WORD_BEFORE}(?:{_PROCLITIC})(({titles})\s(ال(?:{'|'.join(_gentilic_stems())})(?:ية|ي)))"
                         rf"{_NOT_WORD_AFTER}", text):
        found[(m.start(1), m.end(1))] = "OCC"
        found[(m.start(3), m.end(3))] = "GPE"
        found.pop((m.start(2), m.end(2)), None)
    # titles before a named person or organisation: "المتحدثة باسم <ORG>"
    for (s, e), typ in list(found.items()):
        if typ == "OCC":
            after = text[e:e + 1]
            nxt = [(s2, e2) for (s2, e2), t2 in found.items() if s2 == e + 1 and t2 in ("ORG", "GPE") and after == " "]
            if nxt and text[s:e].endswith("باسم"):
                del found[(s, e)]  # the title runs on to the organisation it speaks for
                found[(s, max(e2 for _, e2 in nxt))] = "OCC"
    # gentilics alone: people (plural) -> NORP; adjectives after an organisation noun were handled above
    for (s, e), typ in list(found.items()):
        if typ == "GENTILIC":
            word = text[s:e]
            nested = any(s2 <= s and e <= e2 and (s2, e2) != (s, e) and t2 in ("ORG", "OCC") for (s2, e2), t2 in found.items())
            if nested:
                found[(s, e)] = "GPE"
            elif word.endswith(("يين", "يون")):
                found[(s, e)] = "NORP"
            else:  # an adjective of a noun ("الاقتصاد الأردني"): GPE, as the guidelines (§3.4) say
                found[(s, e)] = "GPE"
    taken: list[tuple[int, int]] = []
    for typ, pattern in _PATTERNS:
        for m in re.finditer(rf"{_NOT_WORD_BEFORE}(?:{_PROCLITIC})({pattern}){_NOT_WORD_AFTER}", text):
            s, e = m.span(1)
            if any(a <= s and e <= b for a, b in taken):
                continue
            taken.append((s, e))
            found.setdefault((s, e), typ)
            if typ in ("MONEY", "QUANTITY"):  # the currency or unit nests inside (Wojood CURR, UNIT)
                unit = re.search(rf"(?:{_CURRENCIES if typ == 'MONEY' else _UNITS})(?:\s(?:أمريكي|أميركي))?$", text[s:e])
                if unit:
                    found.setdefault((s + unit.start(), e), "CURR" if typ == "MONEY" else "UNIT")
    out = [{"start": s, "end": e, "text": text[s:e], "type": t} for (s, e), t in found.items() if t != "GENTILIC"]
    out.sort(key=lambda x: (x["start"], -x["end"]))
    return out


def _sentence_of(sentences: list[dict[str, int]], pos: int) -> tuple[int, int]:
    for s in sentences:
        if s["start"] <= pos < s["end"]:
            return s["start"], s["end"]
    return pos, pos


def find_claims(text: str, sentences: list[dict[str, int]], entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claims from reporting cues: ``[{content, cue, source, via, checkworthy, speech}]`` where
    ``source``/``via`` are indexes into ``entities`` (or None)."""
    claims = []
    for m in _CUE.finditer(text):
        cue_s, cue_e = m.span(1)
        s0, s1 = _sentence_of(sentences, cue_s)
        if s0 == s1:
            continue
        if m.group(1) in _ACCORDING_TO:
            claim = _according_to(text, (s0, s1), (cue_s, cue_e), entities)
            if claim:
                claims.append(claim)
            continue
        rest = text[cue_e:s1]
        comp = re.search(r"(?<![^\s،,])(?:أننا|أنها|أنه|إنها|إنه|بأن|فإن|أن|إن)(?=\s|:)\s*:?\s*|:\s*", rest)
        if comp is None or comp.start() > 120:
            continue
        content_s = cue_e + comp.end()
        if comp.group().startswith(("أنه", "أنها", "أننا", "إنه", "إنها")):
            content_s = cue_e + comp.start()
        content_e = s1
        while content_e > content_s and text[content_e - 1] in " .،,؛:”\"":
            content_e -= 1
        while content_s < content_e and text[content_s] in " “\"":
            content_s += 1
        if content_e - content_s < 3:
            continue
        def speaker(e: dict[str, Any]) -> bool:  # a place after "في" is where, not who
            return e["type"] in _SOURCE_TYPES and not (e["type"] == "GPE" and text[max(0, e["start"] - 3):e["start"]] == "في ")
        between = [i for i, e in enumerate(entities) if cue_e <= e["start"] and e["end"] <= cue_e + comp.start() and speaker(e)]
        before = [i for i, e in enumerate(entities) if s0 <= e["start"] and e["end"] <= cue_s and speaker(e)]
        source, via = None, []
        an = re.search(r"(?<![^\s])عن\s", rest[:comp.start()])
        if an and between:  # "نقل X عن Y": Y is the source, X reported it
            after_an = [i for i in between if entities[i]["start"] >= cue_e + an.end()]
            first = [i for i in between if entities[i]["start"] < cue_e + an.start()]
            source = _outermost(entities, after_an) if after_an else None
            via = [_outermost(entities, first)] if first else []
        elif between:
            source = _outermost(entities, between)
        elif before:  # SVO: the nearest entity before the cue, the outer one of a nest
            last = max(entities[i]["start"] for i in before)
            nest = [i for i in before if entities[i]["start"] <= last < entities[i]["end"]]
            source = max(nest, key=lambda i: entities[i]["end"] - entities[i]["start"])
        speech = "direct" if comp.group().strip().startswith(":") else "indirect"
        claims.append({"content": (content_s, content_e), "cue": (cue_s, cue_e), "source": source, "via": via,
                       "checkworthy": None, "speech": speech})
    # a nested claim inherits the reporting chain of the nearest claim whose content holds its cue
    # (claims are in text order, so that claim's own chain is already final)
    for k, inner in enumerate(claims):
        holders = [o for o in claims[:k] if o["content"][0] <= inner["cue"][0] < o["content"][1] and o["source"] is not None]
        if holders:
            outer = min(holders, key=lambda o: o["content"][1] - o["content"][0])
            chain = outer["via"] + [outer["source"]] + inner["via"]
            inner["via"] = [v for i, v in enumerate(chain) if v != inner["source"] and v not in chain[:i]]
    return claims


_ACCORDING_TO = frozenset({"بحسب", "حسب", "وفقا ل", "وفقًا ل", "وفقاً ل"})


def _according_to(text: str, sentence: tuple[int, int], cue: tuple[int, int], entities: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A claim attributed with «بحسب/حسب/وفقا ل» (GUIDELINES §4.2): post-posed («…، بحسب المصدر»:
    the content is the clause before the cue) or pre-posed («وحسب المصدر، …»: the content follows
    the comma after the source). The source is the first speaker entity after the cue, past a
    «ما ذكر/أفاد/أعلن/نقلت» and a «في» (``حسب ما جاء في التقرير``) at most; None when there is no
    content."""
    s0, s1 = sentence
    cue_s, cue_e = cue
    head = text[s0:cue_s].rstrip(" ،,")
    if len(head.strip()) >= 3 and text[s0:cue_s].rstrip(" و").endswith(("،", ",")) or len(head.strip()) >= 15:
        cs, ce = s0, s0 + len(head)
    else:
        comma = text.find("،", cue_e, s1)
        if comma < 0:
            return None
        cs, ce = comma + 1, s1
    while ce > cs and text[ce - 1] in " .،,؛:”\"":
        ce -= 1
    while cs < ce and text[cs] in " “\"":
        cs += 1
    lead = re.match(r"(?:فإن|وإن|إن|أن|بأن)\s+", text[cs:ce])
    cs += lead.end() if lead else 0
    if ce - cs < 3:
        return None
    window_end = min(s1, cue_e + 40)
    speakers = [i for i, e in enumerate(entities) if cue_e <= e["start"] < window_end and e["type"] in _SOURCE_TYPES
                and not (cs <= e["start"] < ce and ce > cue_e)]
    source = _outermost(entities, speakers) if speakers else None
    return {"content": (cs, ce), "cue": (cue_s, cue_e), "source": source, "via": [], "checkworthy": None, "speech": "indirect"}


def _outermost(entities: list[dict[str, Any]], idxs: list[int]) -> int:
    """Of entities starting first, the longest (the outer one of a nest)."""
    first = min(entities[i]["start"] for i in idxs)
    return max((i for i in idxs if entities[i]["start"] == first), key=lambda i: entities[i]["end"])


def _checked_annotation(path: Path, schemas: Any, annotate: Any = None) -> dict[str, Any]:
    """The pre-annotation of the corpus document at ``path``, checked against the schema and its text.

    Raises:
        InputError: the document is not valid, or the pre-annotator produced an invalid annotation.
    """
    from khabar.core.checks import check_row
    from khabar.core.errors import InputError
    from khabar.core.jsonio import load_json

    doc = load_json(path)
    problems = schemas.problems("document", doc)
    if problems:
        raise InputError(f"{path}: not a valid corpus document ({problems[0].path}: {problems[0].message[:200]})",
                         hint="run khabar ingest to rebuild corpus/ from seeds/")
    ann = (annotate or preannotate)(doc)
    bad = [f"{x.path}: {x.message}" for x in schemas.problems("annotation", ann)] + [f"{f}: {c}: {m}" for c, f, m in check_row(ann, text=doc["text"])]
    if bad:
        raise InputError(f"{doc['id']}: the pre-annotator produced an invalid annotation: " + "; ".join(bad[:5]))
    return ann


def preannotate_corpus(project: Any, doc_ids: list[str] | None = None, progress: bool = True,
                       annotate: Any = None) -> list[Path]:
    """Write ``annotations/<doc_id>/preannotator.json`` for the given documents (default: all;
    a document named twice is done once), all or nothing.

    ``annotate`` makes each annotation from a corpus document (default :func:`preannotate`, the
    gazetteers; a trained model's :meth:`khabar.model.Model.annotate` for ``--model``).

    Every document is pre-annotated and checked, and its file staged beside its target, before any
    file is replaced; then each is renamed into place (atomically). On any problem, nothing under
    ``annotations/`` changes.

    Raises:
        InputError: a named document is not in ``corpus/``; a produced annotation fails the schema
            or the span checks (a bug of the pre-annotator, reported with the document id); a file
            or folder cannot be written (one line naming it: :func:`khabar.core.errors.os_error`).
    """
    from tqdm import tqdm

    from khabar.core.runlock import remove_stale_temp_files

    remove_stale_temp_files(project.annotations)  # what a killed run left beside its targets

    from khabar.core.errors import InputError, os_error
    from khabar.core.ids import is_doc_id
    from khabar.core.jsonio import dumps_canonical
    from khabar.core.schema import Schemas
    from khabar.core.store import iter_corpus_paths

    schemas = Schemas(project.schema)
    for d in doc_ids or []:
        if not is_doc_id(d):
            raise InputError(f"--doc {d!r}: not a document id (kb-<16 hex digits>)")
    paths = [project.corpus_file(d) for d in dict.fromkeys(doc_ids)] if doc_ids else list(iter_corpus_paths(project.corpus))
    for p in paths:
        if not p.is_file():
            raise InputError(f"{p.stem}: no such document in {project.corpus}")
    staged = Staged()
    try:
        for p in tqdm(paths, desc="preannotate", unit="doc", disable=not progress):
            ann = _checked_annotation(p, schemas, annotate)
            out = project.preannotator_file(ann["doc_id"])
            try:
                staged.add(out, dumps_canonical(ann), project.annotations)
            except OSError as err:
                raise os_error(OSError(err.errno, err.strerror, str(out)), str(out)) from None
        written = [target for _, target in staged.files]
        try:
            staged.commit()
        except OSError as err:
            raise os_error(err, str(project.annotations)) from None
        return written
    finally:
        staged.discard()


def preannotate(doc: dict[str, Any]) -> dict[str, Any]:
    """An annotation file for corpus document ``doc`` (valid against ``schema/annotation.schema.json``).

    The gazetteers and cue patterns run on the normalised view of the text
    (:class:`khabar.text.normalview.NormalView`: no diacritics or tatweel, presentation forms as
    letters), and every span found is mapped back to the text of record, which is never changed.
    """
    text = doc["text"]
    view = NormalView(text)
    sentences = doc["sentences"] if not view.changed else [
        {"start": view.to_view(s["start"]), "end": view.to_view(s["end"])} for s in doc["sentences"]]
    ents = find_entities(view.text)
    back = view.to_original
    entities = [{"id": f"e{i + 1}", "start": (b := back(e["start"], e["end"]))[0], "end": b[1], "text": text[b[0]:b[1]], "type": e["type"]}
                for i, e in enumerate(ents)]
    claims = []
    for j, c in enumerate(find_claims(view.text, sentences, ents)):
        (cs, ce), (us, ue) = back(*c["content"]), back(*c["cue"])
        claims.append({"id": f"c{j + 1}", "content": {"start": cs, "end": ce, "text": text[cs:ce]},
                       "cue": {"start": us, "end": ue, "text": text[us:ue]},
                       "source": entities[c["source"]]["id"] if c["source"] is not None else None,
                       "via": [entities[v]["id"] for v in c["via"]], "checkworthy": None, "speech": c["speech"]})
    return {"schema_version": "1.0", "doc_id": doc["id"], "text_sha256": doc["text_sha256"], "annotator": "preannotator",
            "guidelines_version": None, "origin": {"kind": "preannotator", "tool": TOOL, "version": VERSION},
            "entities": entities, "claims": claims, "stances": []}
