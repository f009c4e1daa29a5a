"""The inputs of an unfolding: one analysis-description run over the data and simulation
files, the network inputs of each level, and the truth histograms of any weights.

:func:`prepare_inputs` runs :class:`hepnnlr.processors.AnalysisProcessor` (with each
level's ``observables`` record in the columns) over the fileset ``{"data": [data_file],
"sim": [sim_file]}``; the network inputs are a level's particle features and event
features (the job's, else the description's). :func:`truth_histograms` fills the
particle-level observables of the events that pass ``pass_gen`` and the truth region (an
expression over the gen observables and features by name) with any per-event weights,
through :func:`hepnnlr.results.observables.fill_observables`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import awkward as ak
import hist
import numpy as np

from hepnnlr.analysis import AnalysisDescription, Expression, Reference, parse
from hepnnlr.errors import ConfigError, EmptySelectionError
from hepnnlr.methods.minimum_events import check_minimum_events
from hepnnlr.observables.entries import event_flags
from hepnnlr.processors.analysis import DATA_KEY, run_analysis
from hepnnlr.processors.chunks import collect_columns
from hepnnlr.results.observables import fill_observables
from hepnnlr.tensors import EventTensors, Standardizer, from_awkward
from hepnnlr.workflows.unfold_truth import check_data_weight, resolve_data_truth

if TYPE_CHECKING:
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob

_LOG = logging.getLogger(__name__)

__all__ = [
    "UnfoldingInputs",
    "level_features",
    "prepare_inputs",
    "region_mask",
    "truth_histograms",
]

_RECORD_FIELDS = ("particles", "observables")


def level_features(
    description: AnalysisDescription,
    level: str,
    particle_features: tuple[str, ...] | None,
    global_features: tuple[str, ...] | None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The network inputs of ``level``: the given ones, else the level's particle features
    and event features (no particle features where the level has no particle set)."""
    spec = description.levels[level]
    if particle_features is None:
        particle_features = () if spec.particles is None else tuple(spec.particles.features)
    if global_features is None:
        global_features = tuple(spec.features)
    if not particle_features and not global_features:
        raise ConfigError(
            f"the {level} level of the analysis {description.name!r} gives no network input: "
            "give it a particle set or event features, or name particle_features / "
            "global_features in the job."
        )
    return tuple(particle_features), tuple(global_features)


def region_mask(level_columns: ak.Array, region: Expression | Reference | None) -> np.ndarray:
    """``region`` evaluated on one level of the columns: the observables and the event
    features by name (``Q2 > 150 and 0.08 < y < 0.7``); None counts as outside. All
    events where ``region`` is None."""
    n_events = len(level_columns)
    if region is None:
        return np.ones(n_events, dtype=bool)
    fields = ak.fields(level_columns)
    names: dict[str, Any] = {f: level_columns[f] for f in fields if f not in _RECORD_FIELDS}
    if "observables" in fields:
        names.update(
            {f: level_columns.observables[f] for f in ak.fields(level_columns.observables)}
        )
    value = region.evaluate(level_columns, names)
    return event_flags(
        value, n_events, key=region.key, text=region.text, what="region", example="Q2 > 150"
    )


def parse_region(text: str | None, key: str = "region") -> Expression | Reference | None:
    """``text`` parsed as a region expression (None: no region)."""
    return None if text is None else parse(text, key=key)


@dataclass
class UnfoldingInputs:
    """Processed files ready for OmniFold (see :func:`prepare_inputs`).

    ``output`` is the processor's accumulator of the one run over both files, datasets
    ``"data"`` and ``"sim"`` (read one back with
    :func:`~hepnnlr.processors.chunks.collect_hists` / ``collect_columns``). ``data_reco``
    holds the data events passing the detector selection; ``sim_reco`` and ``sim_gen`` one
    row per simulated event; all three standardized with statistics of the simulation.
    ``data_truth``: whether the data were processed at the particle level too (their
    columns have ``gen`` and ``pass_gen``; see
    :func:`~hepnnlr.workflows.unfold_truth.resolve_data_truth`).
    """

    output: dict[str, Any]
    data: ak.Array
    sim: ak.Array
    data_reco: EventTensors
    sim_reco: EventTensors
    sim_gen: EventTensors
    pass_reco: np.ndarray
    pass_gen: np.ndarray
    sim_weights: np.ndarray
    data_weights: np.ndarray
    reco_scaler: Standardizer | None = None
    gen_scaler: Standardizer | None = None
    description: AnalysisDescription | None = None
    data_truth: bool = True

    def omnifold_args(self) -> tuple[EventTensors, EventTensors, EventTensors]:
        """Positional arguments of :func:`hepnnlr.methods.omnifold.omnifold`."""
        return self.data_reco, self.sim_reco, self.sim_gen

    def omnifold_kwargs(self) -> dict[str, np.ndarray]:
        """Selections and weights for :func:`hepnnlr.methods.omnifold.omnifold`."""
        return {
            "pass_reco": self.pass_reco,
            "pass_gen": self.pass_gen,
            "sim_weights": self.sim_weights,
            "data_weights": self.data_weights,
        }


def _level_tensors(
    columns: ak.Array,
    level: str,
    select: np.ndarray,
    job: DISUnfoldingJob,
    description: AnalysisDescription,
    where: str,
) -> EventTensors:
    particles, events = level_features(
        description, level, job.particle_features, job.global_features
    )
    if job.global_features is None:  # the description's: those that are numbers (a record
        # feature, such as zjets' jet1, is there for dotted names: jet1.multiplicity)
        events = tuple(name for name in events if not ak.fields(columns[level][name]))
    return from_awkward(
        columns[level],
        particle_features=particles,
        global_features=events,
        select=select,
        where=f"{where} ({level} level)",
    )


def prepare_inputs(job: DISUnfoldingJob) -> UnfoldingInputs:
    """Run the job's analysis on both files and build the standardized network inputs.

    One run over the fileset ``{"data": [data_file], "sim": [sim_file]}``: the processor
    keeps the two datasets apart (cut-flows, histogram rows and columns per dataset). Data
    without their particle level (the job's ``data_truth``) are marked ``is_data: true``
    and processed at the ``reco`` level alone.
    """
    description = job.description
    _LOG.info(
        "processing %s and %s with the analysis %r (%s executor)",
        job.data_file,
        job.sim_file,
        description.name,
        job.executor,
    )
    missing = sorted({"gen", "reco"} - set(description.levels))
    if missing:
        raise ConfigError(
            f"analysis: {description.name!r} has no {missing} level; an unfolding needs a "
            "gen (particle) and a reco (detector) level."
        )
    data_truth = resolve_data_truth(job)
    check_data_weight(job)
    data_set: dict[str, Any] = {"files": [str(job.data_file)]}
    if job.data_weight is not None:  # the data's own (1 for real data), not the analysis's
        data_set["weight"] = job.data_weight
    if not data_truth:  # real data: the processor builds the reco level alone
        data_set["metadata"] = {DATA_KEY: True}
    output = run_analysis(
        description,
        {"data": data_set, "sim": [str(job.sim_file)]},
        observables=True,
        executor=job.executor,
        workers=job.workers,
        scheduler_address=job.scheduler_address,
        chunksize=job.chunksize,
        progress=job.progress,
    )
    data = collect_columns(output, "data")
    sim = collect_columns(output, "sim")
    data_pass = ak.to_numpy(data["pass_reco"])
    if not data_pass.any():
        raise EmptySelectionError(
            f"no event of the data file {job.data_file} passes the detector-level selection "
            f"(pass_reco) of the analysis {description.name!r}; nothing to unfold. Check "
            f"that the file holds its events ({description.title or description.name})."
        )
    pass_reco = ak.to_numpy(sim["pass_reco"])
    pass_gen = ak.to_numpy(sim["pass_gen"])
    check_minimum_events(
        "omnifold",
        {
            f"the data at detector level (pass_reco) of {job.data_file}": (
                int(data_pass.sum()),
                len(data_pass),
            ),
            f"the simulation at detector level (pass_reco) of {job.sim_file}": (
                int(pass_reco.sum()),
                len(pass_reco),
            ),
            f"the simulation at particle level (pass_gen) of {job.sim_file}": (
                int(pass_gen.sum()),
                len(pass_gen),
            ),
        },
        fix="Use files with more events (hepnnlr generate ... --events N) before unfolding.",
    )
    where_data, where_sim = str(job.data_file), str(job.sim_file)
    data_reco = _level_tensors(data, "reco", data_pass, job, description, where_data)
    sim_reco = _level_tensors(sim, "reco", pass_reco, job, description, where_sim)
    sim_gen = _level_tensors(sim, "gen", pass_gen, job, description, where_sim)
    data_reco = data_reco.subset(data_pass)
    reco_scaler = Standardizer.fit(sim_reco.subset(pass_reco))
    gen_scaler = Standardizer.fit(sim_gen.subset(pass_gen))
    return UnfoldingInputs(
        output=output,
        data=data,
        sim=sim,
        data_reco=reco_scaler.transform(data_reco),
        sim_reco=reco_scaler.transform(sim_reco),
        sim_gen=gen_scaler.transform(sim_gen),
        pass_reco=pass_reco,
        pass_gen=pass_gen,
        sim_weights=ak.to_numpy(sim["weight"]).astype(np.float64),
        data_weights=ak.to_numpy(data["weight"][data_pass]).astype(np.float64),
        reco_scaler=reco_scaler,
        gen_scaler=gen_scaler,
        description=description,
        data_truth=data_truth,
    )


def truth_histograms(
    columns: ak.Array,
    weights: np.ndarray,
    description: AnalysisDescription,
    region: Expression | Reference | None,
) -> dict[str, hist.Hist]:
    """Particle-level histograms of ``description``'s gen observables, for the
    ``pass_gen`` events inside ``region``, filled with ``weights`` (one per event)."""
    shown = ak.to_numpy(columns["pass_gen"]).astype(bool) & region_mask(columns["gen"], region)
    return fill_observables(
        description.levels["gen"], columns["gen"]["observables"], weights, select=shown
    )
