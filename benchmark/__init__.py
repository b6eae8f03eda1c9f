"""xbench: an evaluation harness for multilingual dense retrieval.

The flow, one module per step: task definition (:mod:`benchmark.taskdef`) -> data
(:mod:`benchmark.datafiles`, :mod:`benchmark.formats`) -> settings (:mod:`benchmark.settings`) ->
encoder (:mod:`benchmark.encoders`) -> embeddings cache (:mod:`benchmark.cache`,
:mod:`benchmark.embed`) -> search (:mod:`benchmark.search`) -> metrics (:mod:`benchmark.metrics`)
-> results (:mod:`benchmark.results`) -> views (:mod:`benchmark.views`).
"""

__version__ = "0.2.0"  # 0.2.0: exact, cut-independent scores (numbers may differ from 0.1.0 in near ties)

# Bumped whenever the layout of a result file changes; readers refuse other versions.
RESULT_SCHEMA_VERSION = 1
