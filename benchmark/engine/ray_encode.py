"""The Ray side of encoding: a Ray Data actor pool, driven from inside the cluster.

:class:`EncodePump` (an actor without resources) runs the Ray Data pipeline, ``from_items`` of
the batches' locators, ``map_batches`` over a pool of :class:`EncodeActor`, and hands the driver
one finished batch per ``next()`` call. Why a pump rather than iterating the dataset in the
driver: over Ray Client (``ray://``) a dataset cannot run in the driver at all (Ray 2.60: its
executor needs the driver's core worker; streaming generators are refused too), and one path for
every address is one path tested. The extra hop costs a copy of each batch's vectors.

Each :class:`EncodeActor` loads the model once from the ``--model`` spec and options, reads its
batch's texts from the locator and encodes them with :func:`~benchmark.engine.embed.encode_chunk`,
the local path's function, so the vectors are the local ones. An expected failure
(:class:`XbenchError`) is returned as data, not raised: raised in the constructor, Ray Data
retries the actor's start for ~18 s and the message is lost in a traceback. Ray Data restarts an
actor whose process dies and re-runs its batch (``max_restarts=-1``, its default).
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

import numpy as np

from benchmark.encoders import EncoderOptions
from benchmark.errors import XbenchError
from benchmark.retrievers import DenseRetriever, load_model
from .embed import encode_chunk
from .textsource import Locator

# what a batch comes back as: (position, vectors or None, node id, error message or None)
Outcome = tuple[int, "np.ndarray | None", str, "str | None"]


class EncodeActor:
    """One actor of the pool: the model, loaded once; a batch's pickled locator in, its pickled
    :data:`Outcome` out (one binary column: the vectors come back bit for bit)."""

    def __init__(self, spec: str, options: EncoderOptions, role: str) -> None:
        import ray

        self.node = ray.get_runtime_context().get_node_id()
        self.options, self.role, self.encoder, self.error = options, role, None, None
        try:
            model = load_model(spec, options)
            if isinstance(model, DenseRetriever):
                self.encoder = model.encoder
            else:
                self.error = f"model {spec}: not an encoder (--engine ray encodes dense models)"
        except XbenchError as error:
            self.error = str(error)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[bytes]]:
        i, vectors, error = int(batch["i"][0]), None, self.error
        if error is None:
            try:
                vectors = encode_chunk(self.encoder, pickle.loads(batch["locator"][0]).texts(), self.role, self.options)
            except XbenchError as failure:
                error = str(failure)
        outcome: Outcome = (i, vectors, self.node, error)
        return {"result": [pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)]}


class EncodePump:
    """Runs the pool over ``locators`` inside the cluster; ``next()``: the next finished batch's
    pickled :data:`Outcome`, None when all are done. ``actors``: the pool's size; ``gpus``: one
    GPU per actor (else one CPU)."""

    def __init__(self, spec: str, options: EncoderOptions, role: str, locators: list[Locator], actors: int,
                 gpus: bool) -> None:
        import ray.data
        from ray.data import ActorPoolStrategy, DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)
        items = [{"i": i, "locator": pickle.dumps(locator)} for i, locator in enumerate(locators)]
        dataset = ray.data.from_items(items).map_batches(
            EncodeActor, batch_size=1, compute=ActorPoolStrategy(size=actors), batch_format="numpy",
            fn_constructor_kwargs={"spec": spec, "options": options, "role": role},
            **({"num_gpus": 1} if gpus else {"num_cpus": 1}))
        self.rows = iter(dataset.iter_rows())

    def next(self) -> Any:
        row = next(self.rows, None)
        return None if row is None else row["result"]
