"""Baselines trained on a release: ``models`` (CRF tagger, claim-sentence classifier), ``run``
(train on ``train``, score on ``test``) and ``reference`` (the CRF on the shipped Wojood sample).
"""
