"""Timing helpers shared by the benchmark scripts (imported as ``_timing`` from this folder).

* :func:`interleaved`: best wall and best CPU time of several calls measured side by side,
  one call of each per round, rounds repeated (so that a change of the machine's load hits
  them all alike);
* :func:`bare_clustering`: the reference every clustering is compared with, the
  ``fastjet`` package's multi-event clustering alone (:data:`BARE_DEFINITION`);
* :func:`processor_vs_bare`: a coffea processor against the bare clustering of the same
  events, two ways: *with I/O* (both read their branches of the same file, chunk by chunk)
  and *compute only* (both work on chunks already read into memory);
* :func:`bare_steps`: where the bare clustering's CPU time goes, by timing its public
  FastJet calls one after the other;
* :func:`axes_lists` and :func:`axes_reclustering`: the FastJet calls of the τN axes
  (:data:`FLOOR_DEFINITION`), which with the bare clustering make the *FastJet floor* of a
  processor that computes τN;
* :func:`dask_scaling`: a processor on a dask ``LocalCluster`` with 1 and with 2 workers
  (:func:`processor_on_dask`: the dask part of bench_processor.py and bench_zjets.py);
* :func:`memory_mib` and :class:`RssPerChunk`: resident memory of this process, and a
  processor wrapper that records it after every chunk (``benchmarks/bench_memory.py``);
* :func:`write_json`: the JSON file a benchmark leaves for ``benchmarks/report.py``;
  :func:`finish`: the end of every benchmark's ``main`` (that file, when ``--json`` asks).

Only public APIs are called: hepnnlr's and FastJet's functions are timed from the outside,
never wrapped or patched.

On a shared machine wall times move with the load; process CPU time
(``time.process_time``) is the steadier figure for single-process work (it cannot see
the work of dask workers, which run in other processes: those are timed by wall only).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.provenance import load_average, machine  # noqa: F401 (re-exported)

__all__ = [
    "BARE_DEFINITION",
    "FLOOR_DEFINITION",
    "axes_lists",
    "axes_reclustering",
    "RSS_PER_CHUNK",
    "RssPerChunk",
    "Timing",
    "bare_clustering",
    "bare_steps",
    "best_of",
    "best_of_timing",
    "cartesian_levels",
    "chunk_ranges",
    "dask_scaling",
    "flat_arrays",
    "interleaved",
    "load_average",
    "machine",
    "overlay_particles",
    "memory_mib",
    "dask_summary",
    "finish",
    "print_results",
    "processor_summary",
    "processor_on_dask",
    "processor_parser",
    "processor_vs_bare",
    "write_overlay_file",
    "write_json",
]

BARE_DEFINITION = (
    "fastjet package, multi-event awkward interface, per chunk and per level: "
    "ClusterSequence(particles, jet_definition), .inclusive_jets(pt_min), "
    ".constituent_index(pt_min); nothing else"
)
"""What "bare FastJet clustering" means in every ratio of these benchmarks.

The ``*_noindex`` figures leave out ``constituent_index`` (the reference of the runs of
2026-11-30 in ``docs/benchmarks.md``)."""


FLOOR_DEFINITION = (
    "bare FastJet clustering plus the FastJet calls of the N-subjettiness axes of the jets "
    "the processor computes tau_N for: ClusterSequence(their constituent lists, kT at "
    "JetDefinition.max_allowable_R), .exclusive_jets_up_to(2); the lists are built "
    "beforehand, untimed"
)
"""What the *FastJet floor* of a processor is: the FastJet calls it cannot do without
(``floor_compute`` in :func:`processor_vs_bare`)."""


@dataclass(frozen=True)
class Timing:
    """Smallest wall time and smallest process CPU time of repeated calls, in seconds."""

    wall: float
    cpu: float


def processor_parser(description: str, events_help: str) -> argparse.ArgumentParser:
    """The command line shared by the processor benchmarks (bench_processor.py,
    bench_zjets.py): input file or events to generate, chunk size, repetitions, dask
    switches and JSON output."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--file", type=Path, help="event file (default: generate one)")
    parser.add_argument("--events", type=int, default=20_000, help=events_help)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask timings")
    parser.add_argument(
        "--no-processor", action="store_true", help="only the dask timings (needs a file)"
    )
    parser.add_argument(
        "--dask-file",
        type=Path,
        help="event file of the dask timings (default: the one of the processor timings)",
    )
    parser.add_argument(
        "--dask-columns-dir",
        action="store_true",
        help="in the dask timings, the workers write the columns to Parquet files "
        "(run_processor(columns_dir=...)) instead of sending them back",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
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


def interleaved(
    runs: Mapping[str, Callable[[], object]], repeat: int, *, warm_up: bool = True
) -> dict[str, Timing]:
    """Best wall and best CPU time of every call in ``runs``, measured side by side.

    Each call runs once untimed (imports, FastJet's banner, numba's cache, the page
    cache), then ``repeat`` rounds run every call once, in order: a change of the
    machine's load during the measurement hits every call alike.
    """
    if warm_up:
        for function in runs.values():
            function()
    measured: dict[str, list[Timing]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, function in runs.items():
            measured[name].append(best_of_timing(1, function))
    return {
        name: Timing(min(t.wall for t in timings), min(t.cpu for t in timings))
        for name, timings in measured.items()
    }


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


def cartesian_levels(arrays: Any, prefixes: Sequence[str]) -> list[Any]:
    """``var * {px, py, pz, E}`` (float64, packed) of every ``prefix_{pt,eta,phi,E}``
    particle group in ``arrays`` (what ``tree.arrays`` returns): all particles."""
    import awkward as ak

    out = []
    for prefix in prefixes:
        pt, eta, phi, energy = (
            ak.values_astype(arrays[f"{prefix}_{f}"], np.float64) for f in ("pt", "eta", "phi", "E")
        )
        momenta = ak.zip(
            {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "E": energy}
        )
        out.append(ak.to_packed(momenta))
    return out


def flat_arrays(level: Any) -> tuple[np.ndarray, ...]:
    """``(counts, px, py, pz, E)`` NumPy arrays of a ``var * {px, py, pz, E}`` array."""
    import awkward as ak

    counts = ak.to_numpy(ak.num(level, axis=1)).astype(np.int64)
    flat = ak.flatten(level, axis=1)
    return (counts, *(np.ascontiguousarray(ak.to_numpy(flat[f])) for f in ("px", "py", "pz", "E")))


def overlay_particles(particles: Any, k: int) -> Any:
    """Events of ``k`` consecutive events each: the particle lists of events
    ``i k, ..., i k + k - 1`` concatenated into event ``i`` (pile-up of ``k`` collisions
    per crossing; a last incomplete group is dropped)."""
    import awkward as ak

    n_groups = len(particles) // k
    particles = ak.to_packed(particles[: n_groups * k])
    counts = ak.to_numpy(ak.num(particles, axis=1)).reshape(n_groups, k).sum(axis=1)
    return ak.unflatten(ak.flatten(particles, axis=1), counts)


def write_overlay_file(
    source: Path, target: Path, k: int, collection: str = "GenPart", basket: int = 10_000
) -> dict:
    """Write ``collection`` of ``source`` with ``k`` events overlaid per event
    (:func:`overlay_particles`) to a hepnnlr event file ``target`` (tree ``events``:
    ``event`` and ``n<collection>``/``<collection>_*``, ``basket`` events per basket: the
    chunk size, so that no chunk decompresses more than its own events), and return its
    ``events`` and ``particles_per_event``."""
    import awkward as ak
    import uproot

    from hepnnlr.samples.rootio import write_tree

    with uproot.open(source) as file:
        tree = file["events"]
        fields = [b[len(collection) + 1 :] for b in tree.keys() if b.startswith(collection + "_")]
        arrays = tree.arrays([f"{collection}_{f}" for f in fields])
    particles = ak.zip({f: arrays[f"{collection}_{f}"] for f in fields})
    overlaid = overlay_particles(particles, k)
    n_events = len(overlaid)
    write_tree(
        target,
        {"event": ak.Array(np.arange(n_events, dtype=np.uint64)), collection: overlaid},
        chunk_size=basket,
    )
    n_particles = int(ak.sum(ak.num(overlaid, axis=1)))
    return {"events": n_events, "particles_per_event": n_particles / max(n_events, 1)}


def bare_clustering(
    level: Any, jet_definition: Any, pt_min: float, *, constituents: bool = True
) -> None:
    """The bare FastJet clustering of one ``var * {px, py, pz, E}`` array
    (:data:`BARE_DEFINITION`); ``constituents=False`` leaves out ``constituent_index``."""
    import fastjet

    sequence = fastjet.ClusterSequence(level, jet_definition)
    sequence.inclusive_jets(pt_min)
    if constituents:
        sequence.constituent_index(pt_min)


def axes_lists(flat: tuple[np.ndarray, ...], config: Any, leading: int | None = None) -> Any:
    """``var * {px, py, pz, E}`` constituent lists of the jets of one level whose τN a
    processor computes: every jet, or the ``leading`` ones of each event (by pT).

    Args:
        flat: ``(counts, px, py, pz, E)`` of the particles clustered (:func:`flat_arrays`).
        config: The processor's :class:`hepnnlr.observables.jets.JetConfig`.
        leading: Jets per event (``ZJetsProcessor``: 2), or None for all.
    """
    from hepnnlr.observables.jets import cluster_flat_momenta
    from hepnnlr.observables.subjets import list_of_momenta, offsets_of

    counts, *four = flat
    jets = cluster_flat_momenta(counts, *four, config, with_nsubjettiness=False)
    keep = np.ones(len(jets.pt), dtype=bool)
    if leading is not None:
        rank = np.arange(len(jets.pt)) - np.repeat(offsets_of(jets.n_jets)[:-1], jets.n_jets)
        keep = rank < leading
    index = jets.constituents[np.repeat(keep, jets.n_constituents)]
    return list_of_momenta(offsets_of(jets.n_constituents[keep]), *(a[index] for a in four))


def axes_reclustering(lists: Any) -> None:
    """The FastJet calls of the τN axes of the jets in ``lists`` (:data:`FLOOR_DEFINITION`):
    one kT ``ClusterSequence`` at ``max_allowable_R`` over all lists, and its two
    exclusive subjets per list (τ2's axes; τ1's is their sum)."""
    import warnings

    import fastjet

    kt = fastjet.JetDefinition(fastjet.kt_algorithm, fastjet.JetDefinition.max_allowable_R)
    sequence = fastjet.ClusterSequence(lists, kt)
    with warnings.catch_warnings():
        # fastjet 3.5.2 warns here for every algorithm, kt included (a bug in its check)
        warnings.filterwarnings("ignore", message="dcut and exclusive jets for jet-finders")
        sequence.exclusive_jets_up_to(2)


def bare_steps(levels: Sequence[Any], jet_definition: Any, pt_min: float) -> dict[str, float]:
    """CPU seconds of each public call of :func:`bare_clustering`, timed one after the
    other over ``levels`` (one run): ``ClusterSequence`` (the clustering itself),
    ``inclusive_jets`` and ``constituent_index``."""
    import fastjet

    spent = dict.fromkeys(("ClusterSequence", "inclusive_jets", "constituent_index"), 0.0)
    for level in levels:
        start = time.process_time()
        sequence = fastjet.ClusterSequence(level, jet_definition)
        middle = time.process_time()
        sequence.inclusive_jets(pt_min)
        end = time.process_time()
        sequence.constituent_index(pt_min)
        spent["ClusterSequence"] += middle - start
        spent["inclusive_jets"] += end - middle
        spent["constituent_index"] += time.process_time() - end
    return spent


def _load_chunks(
    path: Path, ranges: Sequence[tuple[int, int]], processor: Any, dataset: str
) -> list[Any]:
    """NanoEvents of every chunk, read with the processor's schema, buffers in memory.

    Each chunk is processed once so that every branch the processor reads is read and
    decompressed (coffea's eager NanoEvents keep the buffers they have loaded). The
    metadata names the dataset as the fileset of the run with I/O does (processors fill
    their ``dataset`` axis from it).
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
            metadata={"dataset": dataset, "filename": os.fspath(path)},
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
    hepnnlr_steps: Mapping[str, Callable[[tuple[np.ndarray, ...]], object]] | None = None,
    dataset: str = "bench",
    axes: Callable[[tuple[np.ndarray, ...]], Any] | None = None,
) -> dict[str, float]:
    """Time a processor and the bare FastJet clustering of the same events, side by side.

    The bare clustering (:data:`BARE_DEFINITION`) runs per chunk and per level, with the
    processor's jet definition, on the particles the processor clusters. Measured
    interleaved (:func:`interleaved`):

    * *with I/O* (``processor_io``, ``bare_io``, ``bare_noindex_io``): the processor through
      :func:`hepnnlr.schema.run_processor` (iterative executor, ``chunksize``); the bare
      clustering reads ``branches`` of each chunk with ``uproot`` from the same file and
      builds its inputs with ``momenta``;
    * *compute only* (``processor_compute``, ``bare_compute``, ``bare_noindex_compute``):
      both on chunks read beforehand (NanoEvents buffers in memory):
      ``processor.process(events)`` per chunk against the clustering of the momenta built
      beforehand from those same chunks;
    * ``hepnnlr_steps``: public hepnnlr calls (e.g. ``cluster_flat_momenta``) on the flat
      arrays (:func:`flat_arrays`) of those same momenta, per chunk and level, named
      ``<name>_compute``: how much of the processor's time its clustering takes;
    * ``floor_compute`` (with ``axes``): the bare clustering plus the τN axes
      reclustering of the jets the processor computes τN for (:data:`FLOOR_DEFINITION`),
      per chunk and level: the FastJet calls the processor cannot do without.

    Args:
        processor: A coffea processor instance.
        path: Event file.
        chunksize: Events per chunk for both.
        repeat: Best of this many interleaved runs (after one warm-up run of each).
        branches: Branches the bare clustering reads.
        momenta: Maps the arrays read (``tree.arrays(branches)``) to one ``var *
            {px, py, pz, E}`` array per level to cluster.
        jet_definition: FastJet ``JetDefinition`` of the processor.
        pt_min: Jet pT threshold of the processor, GeV.
        hepnnlr_steps: Optional public calls to time on the flat arrays.
        dataset: The fileset's dataset name.
        axes: Maps a level's flat arrays to the constituent lists of the jets whose τN
            the processor computes (:func:`axes_lists`), built before the timings.

    Returns:
        Times (``<run>_wall_s``, ``<run>_cpu_s``), ratios
        ``{io,compute}_processor_over_bare[_noindex]_{wall,cpu}`` (and, with ``axes``,
        ``compute_floor_over_bare_cpu``, ``compute_processor_over_floor_cpu``), the bare
        clustering's steps (``cpu_bare_<step>_s``, :func:`bare_steps`) and the rates.
    """
    import uproot

    from hepnnlr.schema import run_processor

    with uproot.open(path) as file:
        n_events = file["events"].num_entries
    ranges = chunk_ranges(n_events, chunksize)

    def processor_io() -> None:
        run_processor(processor, {dataset: [path]}, chunksize=chunksize, progress=False)

    def bare_io(constituents: bool = True) -> None:
        with uproot.open(path) as file:
            tree = file["events"]
            for start, stop in ranges:
                arrays = tree.arrays(list(branches), entry_start=start, entry_stop=stop)
                for level in momenta(arrays):
                    bare_clustering(level, jet_definition, pt_min, constituents=constituents)

    chunks = _load_chunks(path, ranges, processor, dataset)
    with uproot.open(path) as file:
        tree = file["events"]
        preloaded = [
            momenta(tree.arrays(list(branches), entry_start=start, entry_stop=stop))
            for start, stop in ranges
        ]
    levels = [level for chunk in preloaded for level in chunk]

    def processor_compute() -> None:
        for events in chunks:
            processor.process(events)

    def bare_compute(constituents: bool = True) -> None:
        for level in levels:
            bare_clustering(level, jet_definition, pt_min, constituents=constituents)

    runs: dict[str, Callable[[], object]] = {
        "processor_io": processor_io,
        "bare_io": bare_io,
        "bare_noindex_io": lambda: bare_io(False),
        "processor_compute": processor_compute,
        "bare_compute": bare_compute,
        "bare_noindex_compute": lambda: bare_compute(False),
    }
    flat_levels = [flat_arrays(level) for level in levels]
    for name, step in (hepnnlr_steps or {}).items():
        runs[f"{name}_compute"] = lambda step=step: [step(flat) for flat in flat_levels]
    if axes is not None:
        lists = [axes(flat) for flat in flat_levels]

        def floor_compute() -> None:
            for level, constituents in zip(levels, lists, strict=True):
                bare_clustering(level, jet_definition, pt_min)
                axes_reclustering(constituents)

        runs["floor_compute"] = floor_compute

    results: dict[str, float] = {"events": float(n_events)}
    results["particles_per_event"] = sum(float(f[0].sum()) for f in flat_levels) / n_events
    for name, timing in interleaved(runs, repeat).items():
        results[f"{name}_wall_s"] = timing.wall
        results[f"{name}_cpu_s"] = timing.cpu
    for kind in ("io", "compute"):
        for bare in ("bare", "bare_noindex"):
            for clock in ("wall", "cpu"):
                results[f"{kind}_processor_over_{bare}_{clock}"] = (
                    results[f"processor_{kind}_{clock}_s"] / results[f"{bare}_{kind}_{clock}_s"]
                )
    if axes is not None:
        results["compute_floor_over_bare_cpu"] = (
            results["floor_compute_cpu_s"] / results["bare_compute_cpu_s"]
        )
        results["compute_processor_over_floor_cpu"] = (
            results["processor_compute_cpu_s"] / results["floor_compute_cpu_s"]
        )
    for step, seconds in bare_steps(levels, jet_definition, pt_min).items():
        results[f"cpu_bare_{step}_s"] = seconds
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
        ``dask_{n}_workers_s``, ``dask_{n}_workers_events_per_s``,
        ``dask_{n}_workers_cores_used`` (the workers' CPU time over the cluster's lifetime:
        the cores they got, which the machine's other load takes away) and
        ``dask_speedup_2_over_1``.
    """
    from dask.distributed import LocalCluster

    results: dict[str, float] = {}
    for n in workers:
        before, start = os.times(), time.perf_counter()
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address
            run(address)
            seconds = best_of(repeat, lambda a=address: run(a))
        after, elapsed = os.times(), time.perf_counter() - start
        results[f"dask_{n}_workers_s"] = seconds
        results[f"dask_{n}_workers_events_per_s"] = n_events / seconds
        # the worker processes' CPU time (reaped children) per second of the cluster's life:
        # how many cores the workers actually got (n on an otherwise idle machine)
        spent = (after.children_user + after.children_system) - (
            before.children_user + before.children_system
        )
        results[f"dask_{n}_workers_cores_used"] = spent / elapsed
    results["dask_speedup_2_over_1"] = results["dask_1_workers_s"] / results["dask_2_workers_s"]
    results["load_average_after"] = os.getloadavg()[0]
    return results


def processor_on_dask(
    make_processor: Callable[[], object],
    dataset: str,
    path: Path,
    args: argparse.Namespace,
    scratch: Path,
    name: str,
) -> tuple[dict[str, float], list[dict]]:
    """The dask part of a processor benchmark (bench_processor.py, bench_zjets.py).

    :func:`dask_scaling` of ``run_processor`` with a fresh ``make_processor()`` over
    ``{dataset: [args.dask_file or path]}``, with the options of :func:`processor_parser`
    (``--chunksize``, ``--repeat``, ``--dask-columns-dir``, the columns written under
    ``scratch``).

    Returns:
        The numbers (``dask_events`` first, then :func:`dask_scaling`'s) and the table row
        of :func:`dask_summary` for ``name``.
    """
    import uproot

    from hepnnlr.schema import run_processor

    dask_path = args.dask_file or path

    def run(address: str) -> None:
        run_processor(
            make_processor(),
            {dataset: [dask_path]},
            executor="dask",
            chunksize=args.chunksize,
            progress=False,
            scheduler_address=address,
            columns_dir=scratch / "columns" if args.dask_columns_dir else None,
        )

    with uproot.open(dask_path) as file:
        results = {"dask_events": float(file["events"].num_entries)}
    results.update(dask_scaling(run, int(results["dask_events"]), args.repeat))
    print(f"load average after the dask timings: {load_average()}")
    return results, dask_summary(results, name, args.dask_columns_dir)


def processor_summary(results: Mapping[str, float], name: str, target: float) -> list[dict]:
    """Table rows of a processor-vs-bare measurement (with I/O and compute only)."""
    rows = []
    for kind, label in (("io", "with I/O"), ("compute", "compute only")):
        ratio = results[f"{kind}_processor_over_bare_cpu"]
        rows.append(
            {
                "measurement": f"{name} / bare FastJet clustering, {label}",
                "ratio": ratio,
                "clock": "CPU",
                "target": f"<= {target}",
                "met": ratio <= target,
                "note": "without constituent_index in the bare: "
                f"{results[f'{kind}_processor_over_bare_noindex_cpu']:.2f}"
                + (
                    "; FastJet floor (bare + τN axes reclustering) / bare: "
                    f"{results['compute_floor_over_bare_cpu']:.2f}"
                    if kind == "compute" and "compute_floor_over_bare_cpu" in results
                    else ""
                ),
            }
        )
    return rows


def dask_summary(
    results: Mapping[str, float], name: str, columns_dir: bool, target: float = 1.6
) -> list[dict]:
    """Table row of the dask 2-vs-1-worker measurement (issue 14: at least ``target``)."""
    ratio = results["dask_speedup_2_over_1"]
    return [
        {
            "measurement": f"{name} on dask, 2 workers vs 1"
            + (" (columns_dir)" if columns_dir else " (columns sent back)"),
            "ratio": ratio,
            "clock": "wall",
            "target": f">= {target}",
            "met": ratio >= target,
            "note": f"{results['dask_events']:.0f} events; cores the workers got: "
            f"{results['dask_1_workers_cores_used']:.2f} with 1, "
            f"{results['dask_2_workers_cores_used']:.2f} with 2",
        }
    ]


def print_results(results: Mapping[str, Any]) -> None:
    """One ``name  value`` line per number."""
    numbers = {k: v for k, v in results.items() if isinstance(v, int | float)}
    width = max(map(len, numbers), default=0)
    for name, value in numbers.items():
        print(f"{name:<{width}}  {value:12.3f}")


def write_json(
    path: Path,
    *,
    script: str,
    argv: Sequence[str],
    load_before: str,
    results: Mapping[str, Any],
    summary: Sequence[Mapping[str, Any]],
    notes: Mapping[str, Any] | None = None,
) -> None:
    """Write a benchmark's results for ``benchmarks/report.py``.

    Args:
        path: The JSON file.
        script: The script's file name (``bench_zjets.py``).
        argv: Its command-line arguments.
        load_before: :func:`load_average` before the timings (the load after is read now).
        results: Every number measured.
        summary: The rows of the table in ``docs/benchmarks.md``: each a ``measurement``,
            its ``ratio`` (a number), the ``target`` (text, e.g. ``"<= 1.6"``) and ``met``
            (bool), and optionally ``clock`` (``"CPU"``/``"wall"``) and ``note``.
        notes: Anything else worth keeping (samples, definitions).
    """
    document = {
        "script": script,
        "command": " ".join(["python", f"benchmarks/{script}", *argv]),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "bare_definition": BARE_DEFINITION,
        "summary": list(summary),
        "notes": dict(notes or {}),
        "results": dict(results),
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {path}", file=sys.stderr)


def finish(
    script: str,
    args: argparse.Namespace,
    argv: Sequence[str],
    load_before: str,
    results: Mapping[str, Any],
    summary: Sequence[Mapping[str, Any]] = (),
    *,
    notes: Mapping[str, Any] | None = None,
) -> Any:
    """The end of a benchmark's ``main``: :func:`write_json` to ``args.json`` if given.

    Args:
        script: The script's ``__file__`` (its name is recorded).
        args: The parsed arguments; ``args.json`` is the file or ``None``.
        argv, load_before, results, summary, notes: As for :func:`write_json`.

    Returns:
        ``results``, for ``main`` to return.
    """
    if args.json is not None:
        write_json(
            args.json,
            script=Path(script).name,
            argv=argv,
            load_before=load_before,
            results=results,
            summary=summary,
            notes=notes,
        )
    return results
