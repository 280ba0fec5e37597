"""Fill in the provenance of the Arabic Wikinews seeds in seeds/manifest.jsonl (run once after
`khabar ingest` made their lines; then run `khabar ingest` again to carry it into corpus/).

What is known comes from ../shared/realdata/arabic_news_wikinews/README.md and SOURCES.tsv:
the articles were written for Arabic Wikinews, whose text is CC BY 2.5 (credit "Wikinews
contributors"); the copies come from the WikiNews-2014 diacritization benchmark (Darwish et al.
2017, qcri/advancing-arabic-diacritization 042446ac, diacritics removed). Publication dates are
not in the source (null); the URLs were built from the headlines and never checked, so `url`
stays null and the constructed URL goes into `notes`. Lines of other seeds are left as they are.

Usage: python scripts/wikinews_provenance.py [SOURCES.tsv]
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT.parent / "shared" / "realdata" / "arabic_news_wikinews" / "SOURCES.tsv"
LICENSE = "CC BY 2.5 (https://creativecommons.org/licenses/by/2.5/); attribution: Wikinews contributors, Arabic Wikinews"


def main(sources: Path) -> int:
    """Rewrite seeds/manifest.jsonl atomically; returns the number of lines filled in."""
    rows = {r["file"]: r for r in csv.DictReader(sources.open(encoding="utf-8"), delimiter="\t")}
    manifest = ROOT / "seeds" / "manifest.jsonl"
    lines = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    filled = 0
    for entry in lines:
        src = rows.get(entry["seed_file"])
        if src is None:
            continue
        entry.update({
            "language": "ar", "publisher": "Arabic Wikinews (ar.wikinews.org)", "url": None, "published_date": None,
            "translated_from": None, "machine_translated": False, "license": LICENSE, "license_status": "verified",
            "notes": (f"Written for Arabic Wikinews (category {src['category']}, {src['words']} words"
                      + (", under 150 words" if src["flags"] == "under150words" else "") + "), about 2009-2014; the exact "
                      "date is not in the source. Copy: WikiNews-2014 diacritization benchmark (Darwish et al. 2017, "
                      "qcri/advancing-arabic-diacritization 042446ac, WikiNews_Benchmarks/WikiNews_2014.txt.diac), "
                      "diacritics removed. Licence: Arabic Wikinews publishes under CC BY 2.5 (stated by the source's "
                      "README and the site); the article page itself was not checked. URL built from the headline, "
                      f"not verified: {src['url_constructed_unverified']}"),
        })
        filled += 1
    fd, tmp = tempfile.mkstemp(dir=manifest.parent, prefix=".manifest.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for entry in lines:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, manifest)
    return filled


if __name__ == "__main__":
    n = main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCES)
    print(f"filled in the provenance of {n} Wikinews seed(s) in seeds/manifest.jsonl")
