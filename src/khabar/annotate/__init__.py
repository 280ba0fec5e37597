"""Annotation files and the pre-annotator: ``files`` loads and checks
``annotations/<doc>/<annotator>.json``, ``preannotate`` proposes entities and claims,
``evaluate`` scores proposals against gold.
"""
