"""CoNLL NER files (Wojood nested, AQMAR): ``reader`` parses tags, ``importer`` and ``seeds`` bring
a file in as seed, document and annotation, ``sources`` and ``exporter`` write a release or the
corpus back out.
"""
