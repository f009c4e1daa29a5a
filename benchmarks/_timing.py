"""Timing helpers shared by the benchmark scripts (imported as ``_timing`` from this folder).

* :func:`best_of` / :func:`best_of_timing`: smallest wall (and CPU) time of N calls;
* :func:`processor_vs_bare`: a coffea processor against a bare FastJet clustering of the
  same events, side by side in one run, two ways: *with I/O* (both read their branches of
  the same file, chunk by chunk) and *compute only* (both work on chunks already read and
  decompressed into memory);
* :func:`dask_scaling`: a processor on a dask ``LocalCluster`` with 1 and with 2 workers;
* :func:`fastjet_breakdown`: where the CPU time of a call goes, FastJet step by step;
* :func:`memory_mib` and :class:`RssPerChunk`: resident memory of this process, and a
  processor wrapper that records it after every chunk (``benchmarks/bench_memory.py``).

On a shared machine wall times move with the load; process CPU time
(``time.process_time``) is the steadier figure for single-process work (it cannot see
the work of dask workers, which run in other processes: those are timed by wall only).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "RSS_PER_CHUNK",
    "RssPerChunk",
    "Timing",
    "best_of",
    "best_of_timing",
    "chunk_ranges",
    "dask_scaling",
    "fastjet_breakdown",
    "load_average",
    "memory_mib",
    "processor_vs_bare",
]


@dataclass(frozen=True)
class Timing:
    """Smallest wall time and smallest process CPU time of repeated calls, in seconds."""

    wall: float
    cpu: float


def processor_parser(description: str, events_help: str) -> argparse.ArgumentParser:
    """The command line shared by the processor benchmarks (bench_processor.py, bench_zjets.py):
    input file or events to generate, chunk size, repetitions, dask switches, JSON output and
    the processor's jet clustering engine (the bare reference is FastJet's either way)."""
    from hepnnlr.observables.jets import JET_ENGINES

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--file", type=Path, help="event file (default: generate one)")
    parser.add_argument("--events", type=int, default=20_000, help=events_help)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask timings")
    parser.add_argument(
        "--dask-columns-dir",
        action="store_true",
        help="in the dask timings, the workers write the columns to Parquet files "
        "(run_processor(columns_dir=...)) instead of sending them back",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--engine",
        choices=JET_ENGINES,
        default="native",
        help="the processor's jet clustering engine (JetConfig.engine); the bare reference "
        "is FastJet's either way",
    )
    return parser


def best_of(repeat: int, function: Callable[[], object]) -> float:
    """Smallest wall time of ``repeat`` calls of ``function``, in seconds."""
    return best_of_timing(repeat, function).wall


def best_of_timing(repeat: int, function: Callable[[], object]) -> Timing:
    """Smallest wall and smallest CPU time (this process) of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return Timing(min(walls), min(cpus))


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def memory_mib() -> dict[str, float]:
    """Memory of this process in MiB, from ``/proc/self/status`` (Linux).

    ``rss``: resident set size (``VmRSS``); ``anon``: its anonymous part (``RssAnon``:
    the heap and anonymous maps, i.e. what the allocators hold, without the mapped
    libraries and files); ``peak``: the peak resident set size so far (``VmHWM``, the
    same as ``getrusage(RUSAGE_SELF).ru_maxrss``).
    """
    wanted = {"VmRSS:": "rss", "RssAnon:": "anon", "VmHWM:": "peak"}
    found: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key = line.split(maxsplit=1)[0] if line.strip() else ""
            if key in wanted:
                found[wanted[key]] = int(line.split()[1]) / 1024  # kB
    missing = set(wanted.values()) - set(found)
    if missing:
        raise RuntimeError(f"/proc/self/status lacks {sorted(missing)}: Linux only")
    return found


RSS_PER_CHUNK: list[dict[str, float]] = []
""":func:`memory_mib` after every chunk processed by a :class:`RssPerChunk` in this process."""


class RssPerChunk:
    """A processor that runs ``inner`` and appends :func:`memory_mib` to ``RSS_PER_CHUNK``.

    coffea pickles the processor even for the iterative executor; this class lives in an
    importable module, so the pickled instance appends to this module's list (one process:
    iterative executor only). ``required_branches`` is forwarded, so ``run_processor``
    checks the inner processor's branches.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.required_branches = tuple(getattr(inner, "required_branches", ()))

    def __call__(self, events: Any) -> Any:
        return self.process(events)

    def process(self, events: Any) -> Any:
        out = self.inner.process(events)
        RSS_PER_CHUNK.append(memory_mib())
        return out

    def postprocess(self, accumulator: Any) -> Any:
        return self.inner.postprocess(accumulator)


def chunk_ranges(n_events: int, chunksize: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` entry ranges of ``chunksize`` events (the last shorter).

    coffea's Runner splits a file the same way when ``n_events`` is a multiple of
    ``chunksize`` (it balances the chunk sizes otherwise).
    """
    return [(s, min(s + chunksize, n_events)) for s in range(0, n_events, chunksize)]


def _load_chunks(path: Path, ranges: Sequence[tuple[int, int]], processor: Any) -> list[Any]:
    """NanoEvents of every chunk, read with the processor's schema, buffers in memory.

    Each chunk is processed once so that every branch the processor reads is read and
    decompressed (coffea's eager NanoEvents keep the buffers they have loaded). The
    metadata names the dataset ``"bench"``, as the fileset of the run with I/O does
    (processors fill their ``dataset`` axis from it).
    """
    from coffea.nanoevents import NanoEventsFactory

    from hepnnlr.schema import HepnnlrSchema

    chunks = []
    for start, stop in ranges:
        events = NanoEventsFactory.from_root(
            {os.fspath(path): "events"},
            schemaclass=HepnnlrSchema,
            mode="eager",
            entry_start=start,
            entry_stop=stop,
            metadata={"dataset": "bench", "filename": os.fspath(path)},
        ).events()
        processor.process(events)
        chunks.append(events)
    return chunks


def processor_vs_bare(
    processor: Any,
    path: Path,
    *,
    chunksize: int,
    repeat: int,
    branches: Sequence[str],
    momenta: Callable[[Any], list[Any]],
    jet_definition: Any,
    pt_min: float,
) -> dict[str, float]:
    """Time a processor and a bare FastJet clustering of the same events, side by side.

    The bare clustering is, per chunk and per level, one awkward ``ClusterSequence`` with
    the processor's jet definition on the particles the processor clusters, and
    ``inclusive_jets(pt_min)``: nothing else.

    * *with I/O*: the processor through :func:`hepnnlr.schema.run_processor` (iterative
      executor, ``chunksize``); the bare clustering reads ``branches`` of each chunk
      with ``uproot`` from the same file and builds its inputs with ``momenta``;
    * *compute only*: both on chunks read beforehand (NanoEvents buffers in memory):
      ``processor.process(events)`` per chunk against the clustering of the momenta
      built beforehand from those same chunks.

    Args:
        processor: A coffea processor instance.
        path: Event file.
        chunksize: Events per chunk for both.
        repeat: Best of this many runs (after one warm-up run of each).
        branches: Branches the bare clustering reads.
        momenta: Maps the arrays read (``tree.arrays(branches)``) to one ``var *
            {px, py, pz, E}`` array per level to cluster.
        jet_definition: FastJet ``JetDefinition`` of the processor.
        pt_min: Jet pT threshold of the processor, GeV.

    Returns:
        Times (``*_wall_s``, ``*_cpu_s``) and ratios ``*_over_bare_{wall,cpu}``.
    """
    import fastjet
    import uproot

    from hepnnlr.schema import run_processor

    with uproot.open(path) as file:
        n_events = file["events"].num_entries
    ranges = chunk_ranges(n_events, chunksize)

    def processor_io() -> None:
        run_processor(processor, {"bench": [path]}, chunksize=chunksize, progress=False)

    def bare_io() -> None:
        with uproot.open(path) as file:
            tree = file["events"]
            for start, stop in ranges:
                arrays = tree.arrays(list(branches), entry_start=start, entry_stop=stop)
                for level in momenta(arrays):
                    fastjet.ClusterSequence(level, jet_definition).inclusive_jets(pt_min)

    chunks = _load_chunks(path, ranges, processor)
    with uproot.open(path) as file:
        tree = file["events"]
        preloaded = [
            momenta(tree.arrays(list(branches), entry_start=start, entry_stop=stop))
            for start, stop in ranges
        ]

    def processor_compute() -> None:
        for events in chunks:
            processor.process(events)

    def bare_compute() -> None:
        for levels in preloaded:
            for level in levels:
                fastjet.ClusterSequence(level, jet_definition).inclusive_jets(pt_min)

    results: dict[str, float] = {"events": float(n_events)}
    runs = {
        "processor_io": processor_io,
        "bare_io": bare_io,
        "processor_compute": processor_compute,
        "bare_compute": bare_compute,
    }
    for function in runs.values():
        function()  # warm-up: imports, FastJet banner, page cache
    # interleaved repeats, so that a change of the machine's load hits all four alike
    best: dict[str, list[Timing]] = {}
    for _ in range(repeat):
        for name, function in runs.items():
            best.setdefault(name, []).append(best_of_timing(1, function))
    for name, timings in best.items():
        results[f"{name}_wall_s"] = min(t.wall for t in timings)
        results[f"{name}_cpu_s"] = min(t.cpu for t in timings)
    for kind in ("io", "compute"):
        for clock in ("wall", "cpu"):
            results[f"{kind}_processor_over_bare_{clock}"] = (
                results[f"processor_{kind}_{clock}_s"] / results[f"bare_{kind}_{clock}_s"]
            )
    # where the CPU time goes (one more run of each, compute only)
    for name in ("processor_compute", "bare_compute"):
        for step, seconds in fastjet_breakdown(runs[name]).items():
            results[f"cpu_{name}_{step}_s"] = seconds
    results["processor_io_events_per_s"] = n_events / results["processor_io_wall_s"]
    results["bare_io_events_per_s"] = n_events / results["bare_io_wall_s"]
    return results


def dask_scaling(
    run: Callable[[str], object], n_events: int, repeat: int, workers: Sequence[int] = (1, 2)
) -> dict[str, float]:
    """Wall time of ``run(scheduler_address)`` on a ``LocalCluster`` of 1 and 2 workers.

    Each cluster (single-threaded worker processes) is started, and ``run`` called once
    to warm the workers' imports, before the clock runs.

    Returns:
        ``dask_{n}_workers_s``, ``dask_{n}_workers_events_per_s`` and
        ``dask_speedup_2_over_1``.
    """
    from dask.distributed import LocalCluster

    results: dict[str, float] = {}
    for n in workers:
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address
            run(address)
            seconds = best_of(repeat, lambda a=address: run(a))
        results[f"dask_{n}_workers_s"] = seconds
        results[f"dask_{n}_workers_events_per_s"] = n_events / seconds
    results["dask_speedup_2_over_1"] = results["dask_1_workers_s"] / results["dask_2_workers_s"]
    results["load_average_after"] = os.getloadavg()[0]
    return results


def fastjet_breakdown(function: Callable[[], object]) -> dict[str, float]:
    """CPU seconds spent in each FastJet step during one call of ``function``.

    Wraps, for the duration of the call, FastJet's clustering entry point
    (``fastjet._ext.interfacemulti``, split into the main clustering and a per-jet
    reclustering such as :func:`hepnnlr.observables.jets.per_jet_sequence`, recognised by
    its radius ``JetDefinition.max_allowable_R``), the awkward ``ClusterSequence`` methods
    the processors call and hepnnlr's compiled per-jet kernel
    (``hepnnlr.observables._kernels.jet_shapes``: τN and ECFs, step ``substructure_kernel``)
    and its clustering engine (``_kernels.cluster_events``, step ``native_clustering``: jets
    and constituents when the processor's ``JetConfig.engine`` is ``"native"``).
    ``other`` is the rest of the call: reading (if any), NumPy and awkward work,
    histograms, columns.
    """
    import fastjet
    import fastjet._generalevent as general
    import fastjet._multievent as multi

    spent: dict[str, float] = {}

    def timed(name: Callable[..., str], original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                key = name(*args)
                spent[key] = spent.get(key, 0.0) + time.process_time() - start

        return wrapper

    def cluster_name(*args: Any) -> str:
        per_jet = args[-1].R() == fastjet.JetDefinition.max_allowable_R
        return "cluster_per_jet" if per_jet else "cluster_main"

    from hepnnlr.observables import _kernels

    patches = [
        (fastjet._ext, "interfacemulti", cluster_name),
        (_kernels, "jet_shapes", lambda *a: "substructure_kernel"),
        (_kernels, "cluster_events", lambda *a: "native_clustering"),
    ]
    for method in (
        "inclusive_jets",
        "constituent_index",
        "exclusive_jets_up_to",
        "exclusive_jets_energy_correlator",
    ):
        for owner in (general._classgeneralevent, multi._classmultievent):
            patches.append((owner, method, lambda *a, m=method: m))
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in patches]
    for owner, attr, name in patches:
        setattr(owner, attr, timed(name, getattr(owner, attr)))
    try:
        start = time.process_time()
        function()
        total = time.process_time() - start
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)
    spent["other"] = total - sum(spent.values())
    spent["total"] = total
    return spent
