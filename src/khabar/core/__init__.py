"""Shared ground for every stage: the project and its file names, errors, JSON I/O, the schema,
ids and hashes, the on-disk store, the run lock and the row integrity checks.

Imports nothing else of Khabar. Modules: ``project`` (:class:`Project`, every path), ``errors``,
``jsonio``, ``schema`` (:class:`Schemas`), ``ids``, ``store``, ``runlock``, ``checks``.
"""
