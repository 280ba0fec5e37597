"""The Label Studio round trip, through ``label-studio-sdk`` only: ``server`` (install, serve),
``client`` (connect, paging), ``config`` (the labeling config from the schema), ``offsets`` and
``results`` (regions <-> annotation files), ``sync`` (push, pull, import) and ``review``
(adjudication conflicts as review tasks).
"""
