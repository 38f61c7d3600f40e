"""Catalogue mode: many films in one resumable run, indexed in SQLite, searchable by mood.

- :mod:`~trajectory.catalog.sources`: SOURCE arguments -> films with content-derived ids.
- :mod:`~trajectory.catalog.stages`: the engine seam: per-film stages (scan, score, assemble)
  and the :class:`~trajectory.catalog.stages.Engine` interface.
- :mod:`~trajectory.catalog.engine`: the local engine (decoder processes + one scorer).
- :mod:`~trajectory.catalog.run`: the driver, single writer of catalog.db and the film folders.
- :mod:`~trajectory.catalog.db`: the catalog.db schema (versioned) and its writes.
- :mod:`~trajectory.catalog.query`, :mod:`~trajectory.catalog.similar`,
  :mod:`~trajectory.catalog.page`: reading the index back.
"""
