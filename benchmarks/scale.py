"""A scale benchmark for xbench: a synthetic multilingual BEIR collection of any size (``generate``).

Why synthetic: the acceptance of issue 12 needs corpora from 250k to millions of passages in
several languages, with parallel query ids (so the cross-lingual and multilingual settings exist),
built on any machine from data xbench already has, and byte-identical from the same arguments.

What it is: XQuAD-R (LAReQA) questions and answer sentences in 7 languages (default ar de en es hi
vi zh, the MLQA-R languages; any of XQuAD-R's 11 may be chosen), plus distractor passages:
  - queries: the first Q question ids of XQuAD-R (file order, present in every chosen language),
    the same ids in every language folder;
  - relevant passages: the answer sentences (qrels score 1), ids ``s<lang>-<i>`` (i = the
    sentence's index in xbench's LAReQA reader);
  - the other XQuAD-R sentences of the language, then distractors ``d<lang>-<n>`` up to
    ``--passages`` (split evenly over the languages; the first languages take the remainder).
    A distractor is a prefix of one sentence of the language joined to a suffix of another
    (whitespace words; characters where the language is not written with spaces, e.g. zh), so its
    script and length are those of real passages; it never equals any real sentence of the
    language (a clash is drawn again), so no distractor is an unjudged copy of an answer.
    The real sentences are spread evenly through the corpus (not all in its first chunk).
  - randomness: SHA-256 in counter mode keyed by (seed, purpose, counter); no global RNG state.
Each ``<out>/<lang>/corpus.jsonl`` is written streaming (bounded memory at any size); the SHA-256
of every file is computed as it is written and pinned in ``<out>/scale.toml``, so the collection
is an ordinary checked task: ``xbench run --task <out>/scale.toml --data-dir <out> --model M``
(or $XBENCH_DATA holding <out> or its parent: ``data_folder`` is <out>'s name).

The generator is benchmarks/scale_collection.py; ``measure`` (benchmarks/scale_measure.py) times
``xbench run`` on growing collections with the local and Ray engines.

Usage: python benchmarks/scale.py generate OUT --passages N [--queries-per-language Q]
                                           [--seed S] [--languages ar,de,...] [--data-dir DIR]
       python benchmarks/scale.py measure --work DIR [--sizes 250000,1000000,4000000]
                                          [--engines local,ray] [--workers 2] [--memory-budget 256]
                                          [--slice-model M --slice-size 20000] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scale_collection, scale_measure: beside this file

from benchmark.errors import UsageError, XbenchError  # noqa: E402
from scale_collection import LANGUAGES, generate  # noqa: E402


def name_list(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("a comma-separated list of distinct names")
    return names


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def size_list(text: str) -> list[int]:
    return [positive(part) for part in text.split(",") if part.strip()]


def run_measure(args: argparse.Namespace) -> int:
    """The measure subcommand (benchmarks/scale_measure.py): rows as JSON lines, then the table."""
    from scale_measure import measure, report

    def make(out: Path, passages: int, queries: int) -> dict[str, object]:
        return generate(out, passages, queries, data_dir=args.data_dir)

    try:
        rows = measure(args.sizes, args.queries_per_language, list(args.engines), args.workers, args.memory_budget,
                       args.model, args.work, args.slice_model, args.slice_size, args.ray_address, make)
    except XbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    print(report(rows))
    if args.out:
        args.out.write_text(json.dumps({"memory_budget": args.memory_budget, "rows": rows}, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write a synthetic BEIR collection and its task definition")
    gen.add_argument("out", type=Path, help="folder to write (<out>/<lang>/..., <out>/scale.toml)")
    gen.add_argument("--passages", type=positive, required=True, help="total passages, split evenly over the languages")
    gen.add_argument("--queries-per-language", type=positive, default=50, help="question ids (the same in every language; default 50)")
    gen.add_argument("--seed", type=int, default=0, help="seed of the distractors (default 0)")
    gen.add_argument("--languages", type=name_list, default=LANGUAGES, help="XQuAD-R languages (default ar,de,en,es,hi,vi,zh)")
    gen.add_argument("--data-dir", type=Path, default=None, help="where XQuAD-R lies (default $XBENCH_DATA)")
    gen.add_argument("--name", default="scale", help="the task's name (names its result file; default scale)")
    meas = commands.add_parser("measure", help="time xbench run on growing collections, local and Ray engines")
    meas.add_argument("--sizes", type=size_list, default=[250_000, 1_000_000, 4_000_000], help="total passages (default 250000,1000000,4000000)")
    meas.add_argument("--queries-per-language", type=positive, default=50)
    meas.add_argument("--engines", type=name_list, default=("local", "ray"), help="default local,ray")
    meas.add_argument("--workers", type=positive, default=2, help="Ray workers (default 2)")
    meas.add_argument("--ray-address", default=None, help="join this Ray cluster (default: a local instance per run)")
    meas.add_argument("--memory-budget", type=positive, default=256, help="MiB, passed to xbench run (default 256)")
    meas.add_argument("--model", default="ngram-hash", help="model of the growing runs (default ngram-hash)")
    meas.add_argument("--slice-model", default=None, help="a real model, run once per engine on --slice-size passages")
    meas.add_argument("--slice-size", type=positive, default=20_000)
    meas.add_argument("--work", type=Path, required=True, help="folder for collections, caches and results (large)")
    meas.add_argument("--data-dir", type=Path, default=None, help="where XQuAD-R lies (default $XBENCH_DATA)")
    meas.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.command == "measure":
        return run_measure(args)
    try:
        summary = generate(args.out, args.passages, args.queries_per_language, args.seed, args.languages, args.data_dir, args.name)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except XbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or args.out}: cannot write ({exc.strerror})", file=sys.stderr)
        return 1
    print(f"wrote {summary['passages']:,} passages and {summary['queries_per_language']} queries x {summary['languages']} "
          f"languages ({summary['bytes'] / 2**20:,.1f} MiB) to {summary['out']} in {summary['seconds']} s")
    print(f"run: xbench run --task {args.out / 'scale.toml'} --data-dir {args.out} --model ngram-hash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
