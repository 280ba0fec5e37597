"""Stage 1, seeds -> corpus: decode, clean, segment, flag artifacts, detect the language.

``run.ingest`` is the stage; ``decode``, ``normalize``, ``segment``, ``flags``, ``langcheck`` and
``document`` make one corpus document from one seed; ``seeds`` reads and writes the seeds
manifest; ``rawmap`` maps text spans back to the seed's raw bytes (and ``document`` checks with it
that every document it makes does).
"""
