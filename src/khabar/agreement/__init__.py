"""Inter-annotator agreement and adjudication: ``measures`` and ``nominal`` define the figures,
``compare`` gathers them over the corpus, ``plots`` draws them, ``merge`` decides item by item and
``adjudicate`` writes ``gold.json`` and ``conflicts.json``.
"""
