"""``--engine ray``: encoding on a Ray Data actor pool, search as Ray tasks, the same bits as local.

Encoding: the batches a run is missing (their locators, never their texts) are encoded on a Ray
Data actor pool (:mod:`.ray_encode`: each actor loads the model once from the ``--model`` spec,
a GPU each when the cluster has GPUs, else a CPU, and encodes with the local path's
:func:`~benchmark.engine.embed.encode_chunk`, so the vectors are the same). Batches stream back
as they finish and the driver stores each in the cache at once (actors never touch the cache): a
killed worker (Ray restarts the actor and re-runs its batch) or a killed driver loses only the
batches in flight, and a re-run resumes.

Search: Ray tasks of :func:`~benchmark.engine.partials.scan`, the scorer put once in the object
store, ``workers`` tasks in flight; a task scans one shard for one block, or for a group of blocks
when all their partials fit the budget (the shard is then read once per group, as the local
engine reads it once). A block's partials are merged in shard order as they arrive (the merge is
exact in any order; this is also the local order), and each block is handed on once all its
shards are in. A task whose worker dies is retried.

Expected failures inside a worker (an :class:`XbenchError`: a model that will not load, a
corrupt chunk) come back as data and are raised here with their own one-line message; a worker
lost for good surfaces as a one-line XbenchError. Which node did what is counted, logged unless
quiet, and recorded in the result's ``encoding`` (``usage()``), a run fact.
"""

from __future__ import annotations

import pickle
import sys
from collections import Counter
from typing import Any, Callable, Iterator

import numpy as np
from tqdm import tqdm

from benchmark.encoders import EncoderOptions, RemoteEncoder
from benchmark.errors import UsageError, XbenchError
from benchmark.retrievers import DenseRetriever, Retriever
from .embed import EncodeBatches
from .partials import BlockWork, Partial, scan, shards_first
from .ray_cluster import Cluster, connect, import_ray, one_line
from .ray_encode import EncodePump
from .search import Scorer
from .textsource import Locator
SCAN_RETRIES = 3  # a scan whose worker died is re-run (Ray's default, said here)


class RayEngine:
    """Encoding and search on the Ray cluster at ``address`` (None: a local instance);
    ``workers``: encoding actors and search tasks in flight (default: the cluster's GPUs, else
    its CPUs)."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, quiet: bool = True) -> None:
        if workers is not None and workers < 1:
            raise UsageError(f"--workers {workers}: must be at least 1")
        self.ray = import_ray()
        self.cluster: Cluster = connect(address, workers)
        self.workers = workers or max(1, self.cluster.gpus or self.cluster.cpus)
        self.quiet = quiet
        self.encode_nodes: Counter[str] = Counter()
        self.search_nodes: Counter[str] = Counter()
        self._scan = self.ray.remote(num_cpus=1, max_retries=SCAN_RETRIES)(_scan_task)
        self._pump = self.ray.remote(num_cpus=0, max_restarts=0)(EncodePump)

    def close(self) -> None:
        """End the connection if this engine made it (a local instance stops with it)."""
        if self.cluster.owned and self.ray.is_initialized():
            self.ray.shutdown()

    def usage(self) -> dict[str, Any]:
        """What ran where since the last call (one task's run): batches encoded and scans run per
        Ray node id. A run fact: it varies with the cluster, the results do not."""
        facts = {"engine": "ray", "ray_workers": self.workers, "ray_nodes": dict(sorted(self.encode_nodes.items())),
                 "ray_search_nodes": dict(sorted(self.search_nodes.items()))}
        self.encode_nodes.clear()
        self.search_nodes.clear()
        return facts

    def encode_hook(self, retriever: Retriever) -> Callable[[str], EncodeBatches] | None:
        """For a dense model loaded from a ``--model`` spec: given a role, the function that
        encodes that role's missing batches on the cluster. None (encode here) for any other: a
        lexical model, an encoder built in code, an API model (its usage is counted here)."""
        if not isinstance(retriever, DenseRetriever) or retriever.spec is None or isinstance(retriever.encoder, RemoteEncoder):
            return None
        spec, options = retriever.spec, retriever.options

        def for_role(role: str) -> EncodeBatches:
            return lambda locators: self.encode_batches(spec, options, role, locators)
        return for_role

    def encode_batches(self, spec: str, options: EncoderOptions, role: str,
                       locators: list[Locator]) -> Iterator[tuple[int, np.ndarray]]:
        """(position in ``locators``, its vectors) for every batch, in the order they finish."""
        if not locators:
            return
        ray, gpus = self.ray, self.cluster.gpus
        actors = min(self.workers, len(locators), gpus or self.workers)
        pump = self._pump.remote(spec, options, role, locators, actors, bool(gpus))
        nodes: Counter[str] = Counter()
        try:
            pending = pump.next.remote()
            while (payload := ray.get(pending)) is not None:
                pending = pump.next.remote()  # the next batch is fetched while this one is stored
                i, vectors, node, error = pickle.loads(payload)
                if error is not None:
                    raise XbenchError(error)
                nodes[node] += 1
                yield i, vectors
        except ray.exceptions.RayError as error:
            raise XbenchError(f"--engine ray: encoding failed: {one_line(error)}") from None
        finally:
            ray.kill(pump)
            self.encode_nodes.update(nodes)
            self._log(f"{sum(nodes.values())} {role} batches encoded", nodes)

    def run(self, scorer: Scorer, works: list[BlockWork], shards: list[slice], memory_budget: int,
            progress: Callable[[int], None] = lambda n: None) -> Iterator[tuple[int, Partial]]:
        """(position in ``works``, its partial over every shard), each block once all its shards are in."""
        ray = self.ray
        ids = [[s for s, shard in enumerate(shards) if work.overlaps(shard)] for work in works]
        for w, its in enumerate(ids):
            if not its:
                yield w, Partial.empty(works[w])
        groups = _job_groups(works, ids, len(shards), memory_budget, self.workers)
        scorer_ref = ray.put(scorer)
        group_refs = {group: ray.put([works[w] for w in group]) for group in dict.fromkeys(g for _, g in groups)}
        jobs = iter(groups)
        arrived: list[dict[int, Partial]] = [{} for _ in works]
        merged: list[Partial | None] = [None] * len(works)
        done = [0] * len(works)  # shards merged so far, per work
        in_flight: dict[Any, tuple[int, tuple[int, ...]]] = {}
        nodes: Counter[str] = Counter()
        try:
            while True:
                while len(in_flight) < self.workers and (job := next(jobs, None)) is not None:
                    s, group = job
                    in_flight[self._scan.remote(scorer_ref, group_refs[group], shards[s], memory_budget)] = job
                if not in_flight:
                    break
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                s, group = in_flight.pop(ready[0])
                node, partials, error = ray.get(ready[0])
                if error is not None:
                    raise XbenchError(error)
                for w, partial in zip(group, partials):
                    if partial is None:
                        continue
                    nodes[node] += 1
                    progress(1)
                    arrived[w][s] = partial
                    while done[w] < len(ids[w]) and ids[w][done[w]] in arrived[w]:  # merged in shard order
                        part = arrived[w].pop(ids[w][done[w]])
                        merged[w] = part if merged[w] is None else merged[w].merge(part)
                        done[w] += 1
                    if done[w] == len(ids[w]):
                        yield w, merged[w]
                        merged[w] = None
        except ray.exceptions.RayError as error:
            raise XbenchError(f"--engine ray: a search task failed: {one_line(error)}") from None
        finally:
            for ref in in_flight:
                ray.cancel(ref)
            self.search_nodes.update(nodes)
            self._log(f"{sum(nodes.values())} scans", nodes)

    def _log(self, what: str, nodes: Counter[str]) -> None:
        if not self.quiet and nodes:
            where = ", ".join(f"{node[:8]} ({n})" for node, n in sorted(nodes.items()))
            tqdm.write(f"ray: {what} on {len(nodes)} node{'s' if len(nodes) > 1 else ''}: {where}", file=sys.stderr)


def _job_groups(works: list[BlockWork], ids: list[list[int]], n_shards: int, memory_budget: int,
                workers: int) -> list[tuple[int, tuple[int, ...]]]:
    """The tasks of a run, (shard, the works it scans), in submission order. As in the local
    engine: when every block's partial fits in a quarter of the budget, shards come first and each
    task scans one shard for a group of blocks (``workers`` groups), reading and quantising the
    shard once for the group; otherwise one task per (block, shard), block after block, so only
    the blocks in progress are held."""
    if shards_first(works, memory_budget):
        size = -(-len(works) // max(1, min(workers, len(works))))
        chunks = [tuple(range(first, min(len(works), first + size))) for first in range(0, len(works), size)]
        return [(s, group) for s in range(n_shards) for group in chunks if any(s in ids[w] for w in group)]
    return [(s, (w,)) for w in range(len(works)) for s in ids[w]]


def _scan_task(scorer: Scorer, works: list[BlockWork], shard: slice,
               memory_budget: int) -> tuple[str, list[Partial | None] | None, str | None]:
    """One shard scanned for some blocks on a Ray worker: (node id, a partial per block, None if
    the shard is outside its span), or (node id, None, message)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    try:
        return node, [scan(scorer, work, shard, memory_budget) if work.overlaps(shard) else None for work in works], None
    except XbenchError as error:
        return node, None, str(error)
