"""xbench: an evaluation harness for multilingual dense retrieval.

Packages by stage, in the order of the flow: :mod:`benchmark.engine` (task definition -> data ->
settings -> embeddings and cache -> search -> scoring), with :mod:`benchmark.encoders` and
:mod:`benchmark.retrievers` (the models) and :mod:`benchmark.metrics`; :mod:`benchmark.results`
(the typed result and its files) -> views; beside the engine, :mod:`benchmark.leaderboard` and
:mod:`benchmark.regression`; and a thin :mod:`benchmark.cli`. README.md, "Layout", has the map.
"""

__version__ = "0.2.0"  # 0.2.0: exact, cut-independent scores (numbers may differ from 0.1.0 in near ties)

# Bumped whenever the layout of a result file changes; readers refuse other versions.
RESULT_SCHEMA_VERSION = 1
