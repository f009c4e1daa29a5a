"""Unfold DIS "data" with a paired simulation: ROOT files -> coffea -> OmniFold -> results."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError
from hepnnlr.methods.minimum_events import check_minimum_events
from hepnnlr.methods.omnifold_config import OmniFoldConfig
from hepnnlr.observables.dis import KinematicRegion
from hepnnlr.observables.histos import book_dis_histograms, fill_dis_histograms
from hepnnlr.outputs import write_json
from hepnnlr.processors.dis import DISProcessor, collect_columns, collect_hists
from hepnnlr.results.io import write_histograms
from hepnnlr.results.plots import plot_comparison
from hepnnlr.results.stats import chi2_test
from hepnnlr.results.uncertainties import BinErrors
from hepnnlr.schema import input_location, run_processor
from hepnnlr.tensors import EventTensors, Standardizer, from_awkward
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.uncertainty import count, error_model
from hepnnlr.workflows.unfold_outputs import save_unfolding_models, write_unfolding_weights
from hepnnlr.workflows.unfold_report import (
    ERROR_MODEL,
    UnfoldUncertainty,
    component_histograms,
    error_bands,
    unfolding_errors,
    with_total,
)

if TYPE_CHECKING:  # the unfolding trains networks (TensorFlow): imported where it runs
    from hepnnlr.methods.omnifold import OmniFoldResult
    from hepnnlr.methods.omnifold_ensembles import EnsembleOfUnfoldings

__all__ = [
    "DISInputs",
    "DISUnfoldingJob",
    "DISUnfoldingOutputs",
    "SEEDED_SAMPLES",
    "UNFOLD_OMNIFOLD",
    "UnfoldUncertainty",
    "prepare_dis_inputs",
    "run_dis_unfolding",
    "truth_histograms",
]

#: Per-particle network inputs: log10 pT, eta - eta_e, phi - phi_e, charge.
PARTICLE_FEATURES = ("log_pt", "deta", "dphi", "charge")
#: Event-level network inputs: log10 Q^2, y and the electron pseudorapidity.
GLOBAL_FEATURES = ("log_Q2", "y", "eta_e")
SEEDED_SAMPLES = ("data",)
"""Samples an unfolding job resamples, each with its own seed (``seeds``)."""
SAVE_MODELS = ("all", "final", "none")
"""Choices of ``DISUnfoldingJob.save_models``."""
UNFOLD_OMNIFOLD = OmniFoldConfig(training=TrainingConfig(batch_size=256, patience=5, seed=1))
"""The OmniFold settings of an unfolding job that gives none: the one set of defaults of
``hepnnlr unfold``'s options and of its job files (``hepnnlr unfold --help`` shows them)."""


@dataclass(frozen=True)
class DISUnfoldingJob:
    """One unfolding of DIS pseudo-data.

    Attributes:
        data_file, sim_file: ROOT event files (format of ``docs/architecture.md``); the
            data file's particle level, when present, is used only for the comparison.
        output_dir: Where histograms, weights, plots and the summary go (default
            ``hepnnlr-unfold`` in the working folder).
        executor: ``iterative``, ``futures`` or ``dask`` (coffea executors).
        workers: Worker processes for ``futures`` and the local dask cluster.
        scheduler_address: Connect to this dask scheduler instead of a local cluster.
        chunksize: Events per coffea chunk.
        omnifold: OmniFold settings (default :data:`UNFOLD_OMNIFOLD`).
        particle_features, global_features: Network inputs (fields of the processor's
            columns).
        region: Particle-level phase space of the truth-level (unfolded, simulation and
            data truth) histograms; the unfolding itself uses every ``pass_gen`` event.
        uncertainty: Runs with other training seeds (method) and bootstrap replicas of
            the data (statistical); see :class:`UnfoldUncertainty`.
        seeds: Per-sample seeds where the job resamples a sample: ``{data: s}`` seeds the
            Poisson weights of the data's bootstrap replicas (replica ``b``: the stream
            ``(s, b)``); default the training seed. The job reads its samples from files:
            their generation seeds are those of ``hepnnlr generate --seed``.
        runs, bootstrap: Deprecated names of ``uncertainty.repeats`` and
            ``uncertainty.bootstrap`` (a ``FutureWarning`` says so; both are moved there).
        progress: Progress bars for processing and training (the trainings show theirs
            when this or ``omnifold.training.progress`` is true).
        save_models: Which final step-1 / step-2 networks to save under
            ``output_dir/models`` as :class:`~hepnnlr.training.SavedReweighter`:
            ``final`` those of every parallel run (they make ``weight_unfolded``),
            ``all`` the bootstrap replicas' too, ``none`` nothing.
    """

    data_file: Path | str
    sim_file: Path | str
    output_dir: Path = Path("hepnnlr-unfold")
    executor: str = "futures"
    workers: int = 2
    scheduler_address: str | None = None
    chunksize: int = 25_000
    omnifold: OmniFoldConfig = UNFOLD_OMNIFOLD
    particle_features: tuple[str, ...] = PARTICLE_FEATURES
    global_features: tuple[str, ...] = GLOBAL_FEATURES
    region: KinematicRegion = KinematicRegion()
    uncertainty: UnfoldUncertainty = UnfoldUncertainty()
    seeds: dict[str, int] = field(default_factory=dict)
    runs: int | None = None
    bootstrap: int | None = None
    progress: bool = True
    save_models: str = "final"

    def __post_init__(self) -> None:
        if self.save_models not in SAVE_MODELS:
            raise ConfigError(
                f"DISUnfoldingJob.save_models={self.save_models!r} must be one of "
                f"{list(SAVE_MODELS)}."
            )
        object.__setattr__(self, "data_file", input_location(self.data_file))
        object.__setattr__(self, "sim_file", input_location(self.sim_file))
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        if self.workers < 1:
            raise ConfigError(f"DISUnfoldingJob.workers={self.workers} must be >= 1.")
        self._move_deprecated()
        if not isinstance(self.seeds, dict):
            raise ConfigError(
                f"seeds must be a mapping {{sample: seed}} with samples among "
                f"{list(SEEDED_SAMPLES)}, got {self.seeds!r}."
            )
        unknown = sorted(set(self.seeds) - set(SEEDED_SAMPLES))
        if unknown:
            raise ConfigError(
                f"seeds: unknown sample(s) {unknown}; an unfolding job resamples "
                f"{list(SEEDED_SAMPLES)} (the files' generation seeds are set by hepnnlr "
                "generate --seed)."
            )
        for name, value in self.seeds.items():
            count(value, f"seeds.{name}")
        if self.chunksize < 1:
            raise ConfigError(f"DISUnfoldingJob.chunksize={self.chunksize} must be >= 1.")
        if not self.particle_features and not self.global_features:
            raise ConfigError("DISUnfoldingJob needs particle_features, global_features or both.")

    def _move_deprecated(self) -> None:
        """``runs``/``bootstrap`` (before issue 15) into ``uncertainty``, with a warning."""
        moved = {}
        for old, new in (("runs", "repeats"), ("bootstrap", "bootstrap")):
            value = getattr(self, old)
            if value is None:
                continue
            current = getattr(self.uncertainty, new)
            if current != getattr(UnfoldUncertainty(), new) and current != value:
                raise ConfigError(
                    f"{old}={value} and uncertainty.{new}={current} disagree; {old} is the "
                    f"old name of uncertainty.{new}: keep uncertainty.{new} alone."
                )
            moved[new] = value
            warnings.warn(
                f"DISUnfoldingJob.{old} is deprecated: it is uncertainty.{new} now (write "
                f"uncertainty: {{{new}: {value}}}; --{new} on the command line).",
                FutureWarning,
                stacklevel=4,
            )
            object.__setattr__(self, old, None)
        if moved:
            object.__setattr__(self, "uncertainty", replace(self.uncertainty, **moved))

    @property
    def training_seed(self) -> int:
        """Seed of run 0's trainings: ``uncertainty.seed``, else ``omnifold.training.seed``."""
        seed = self.uncertainty.seed
        return self.omnifold.training.seed if seed is None else seed

    def seed_of(self, sample: str) -> int:
        """The seed of ``sample`` (:data:`SEEDED_SAMPLES`): ``seeds[sample]``, else
        :attr:`training_seed`."""
        if sample not in SEEDED_SAMPLES:
            raise ConfigError(f"seed_of({sample!r}): the samples are {list(SEEDED_SAMPLES)}.")
        return int(self.seeds.get(sample, self.training_seed))

    @property
    def omnifold_config(self) -> OmniFoldConfig:
        """``omnifold`` with run 0's training seed (:attr:`training_seed`), showing the
        trainings' progress where the job shows progress."""
        training = replace(
            self.omnifold.training,
            seed=self.training_seed,
            progress=self.omnifold.training.progress or self.progress,
        )
        return replace(self.omnifold, training=training)


@dataclass
class DISUnfoldingOutputs:
    """What :func:`run_dis_unfolding` produced."""

    histograms_file: Path
    weights_file: Path
    summary_file: Path
    plots: list[Path]
    histograms: dict[str, dict[str, hist.Hist]]
    result: OmniFoldResult
    chi2: dict[str, dict[str, float]]
    timings: dict[str, float] = field(default_factory=dict)
    uncertainties: dict[str, BinErrors] = field(default_factory=dict)
    runs: EnsembleOfUnfoldings | None = None
    replicas: EnsembleOfUnfoldings | None = None
    models: list[Path] = field(default_factory=list)


def _level_tensors(
    columns: ak.Array, level: str, select: np.ndarray, job: DISUnfoldingJob, where: str
) -> EventTensors:
    particle_features = job.particle_features if job.particle_features else ()
    return from_awkward(
        columns[level],
        particle_features=particle_features,
        global_features=job.global_features,
        select=select,
        where=f"{where} ({level} level)",
    )


@dataclass
class DISInputs:
    """Processed DIS files ready for OmniFold (see :func:`prepare_dis_inputs`).

    ``output`` is the processor's accumulator of the one run over both files, datasets
    ``"data"`` and ``"sim"`` (read one back with
    :func:`~hepnnlr.processors.dis.collect_hists` / ``collect_columns``). ``data_reco``
    holds the data events passing the detector selection; ``sim_reco`` and ``sim_gen`` one
    row per simulated event; all three standardized with statistics of the simulation.
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


def prepare_dis_inputs(job: DISUnfoldingJob, *, log: Callable[[str], None] = print) -> DISInputs:
    """Run the DIS processor on both files and build the standardized network inputs.

    One run over the fileset ``{"data": [data_file], "sim": [sim_file]}``: the processor
    keeps the two datasets apart (cut-flows, histogram rows and columns per dataset).
    """
    log(f"[hepnnlr] processing {job.data_file} and {job.sim_file} ({job.executor} executor)")
    output = run_processor(
        DISProcessor(),
        {"data": [str(job.data_file)], "sim": [str(job.sim_file)]},
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
            "(pass_reco); nothing to unfold. Check that the file holds DIS events at HERA "
            "energies with Q^2 > 150 GeV^2."
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
        fix="Generate more events (hepnnlr generate dis --events N) before unfolding.",
    )
    data_reco = _level_tensors(data, "reco", data_pass, job, str(job.data_file)).subset(data_pass)
    sim_reco = _level_tensors(sim, "reco", pass_reco, job, str(job.sim_file))
    sim_gen = _level_tensors(sim, "gen", pass_gen, job, str(job.sim_file))
    reco_scaler = Standardizer.fit(sim_reco.subset(pass_reco))
    gen_scaler = Standardizer.fit(sim_gen.subset(pass_gen))
    return DISInputs(
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
    )


def truth_histograms(
    columns: ak.Array, weights: np.ndarray, region: KinematicRegion = KinematicRegion()
) -> dict[str, hist.Hist]:
    """Particle-level histograms of the ``pass_gen`` events inside ``region``."""
    shown = ak.to_numpy(columns["pass_gen"]) & region.mask(columns["gen"])
    histograms = book_dis_histograms("gen")
    fill_dis_histograms(histograms, columns["gen"][shown], np.asarray(weights)[shown])
    return histograms


def run_dis_unfolding(
    job: DISUnfoldingJob, *, log: Callable[[str], None] = print
) -> DISUnfoldingOutputs:
    """Run the whole unfolding described by ``job`` and write its outputs.

    Steps: the DIS processor on both files (histograms + network inputs), tensors and
    standardization, OmniFold, unfolded histograms, a ROOT file of histograms, a parquet
    file of per-event weights, mplhep plots, and a JSON summary with chi2 comparisons.
    """
    from hepnnlr.methods.omnifold_ensembles import bootstrap_omnifold, parallel_omnifold

    timings: dict[str, float] = {}
    start = time.perf_counter()
    inputs = prepare_dis_inputs(job, log=log)
    timings["processing_s"] = time.perf_counter() - start
    output, data, sim = inputs.output, inputs.data, inputs.sim
    pass_reco, pass_gen = inputs.pass_reco, inputs.pass_gen
    log(
        f"[hepnnlr] OmniFold: {len(inputs.data_reco)} data events, {int(pass_reco.sum())} "
        f"simulated events at detector level, {int(pass_gen.sum())} at particle level, "
        f"{job.omnifold.iterations} iterations"
    )

    def announce(iteration: int, step: str) -> None:
        log(f"[hepnnlr]   iteration {iteration}: training {step}")

    start = time.perf_counter()
    callback = announce if job.progress else None
    config, u = job.omnifold_config, job.uncertainty
    runs = parallel_omnifold(
        *inputs.omnifold_args(),
        **inputs.omnifold_kwargs(),
        runs=u.repeats,
        config=config,
        callback=callback,
    )
    result = runs.members[0]
    final, _ = runs.weights(job.omnifold.aggregation)
    timings["omnifold_s"] = time.perf_counter() - start
    replicas = None
    if u.bootstrap:
        log(
            f"[hepnnlr] {u.bootstrap} bootstrap replicas of the data (Poisson(1) weights, "
            f"seed {job.seed_of('data')}; OmniFold retrained per replica)"
        )
        start = time.perf_counter()
        kwargs = inputs.omnifold_kwargs()
        data_weights = kwargs.pop("data_weights")
        replicas = bootstrap_omnifold(
            *inputs.omnifold_args(),
            **kwargs,
            data_weights=data_weights,
            replicas=u.bootstrap,
            seed=job.seed_of("data"),
            config=config,
            repeat_seeds=u.repeats,
        )
        timings["bootstrap_s"] = time.perf_counter() - start

    start = time.perf_counter()

    def truth(columns: ak.Array, weights: np.ndarray) -> dict[str, hist.Hist]:
        return truth_histograms(columns, weights, job.region)

    # Everything is written in units of data events: the simulation's histograms are
    # scaled by the same factor OmniFold applied to its weights.
    # The ROOT file keeps one-axis histograms: each dataset's row is selected first.
    sim_reco = collect_hists(output, "sim")["reco"]
    groups = {
        "data_reco": collect_hists(output, "data")["reco"],
        "sim_reco": {k: h * result.mc_scale for k, h in sim_reco.items()},
        "sim_truth": truth(sim, result.sim_weights),
        "unfolded": truth(sim, final),
    }
    errors: dict[str, BinErrors] = {}
    if u.repeats > 1 or replicas is not None:
        errors = unfolding_errors(groups["unfolded"], lambda w: truth(sim, w), runs, replicas)
        groups["unfolded"] = with_total(groups["unfolded"], errors)
    unfolded = groups["unfolded"]
    if ak.any(data["pass_gen"]):
        groups["data_truth"] = truth(data, ak.to_numpy(data["weight"]).astype(np.float64))
    out_dir = job.output_dir
    root_groups = dict(groups)
    root_groups["unfolded"] = {
        **groups["unfolded"],
        **component_histograms(groups["unfolded"], errors),
    }
    histograms_file = write_histograms(out_dir / "histograms.root", root_groups)
    weights_file = write_unfolding_weights(
        out_dir / "weights.parquet", job, sim, final, runs, replicas
    )
    models = save_unfolding_models(job, inputs, runs, replicas)

    reference = "data_truth" if "data_truth" in groups else "sim_truth"
    labels = {
        "data_truth": "data truth",
        "sim_truth": "simulation truth (prior)",
        "unfolded": "unfolded (OmniFold)" + (" ± total" if errors else ""),
    }
    plots: list[Path] = []
    chi2: dict[str, dict[str, float]] = {}
    for name, h in unfolded.items():
        if h.sum().value == 0:
            continue
        shown = {
            labels[g]: groups[g][name]
            for g in ("data_truth", "sim_truth", "unfolded")
            if g in groups
        }
        plots += plot_comparison(
            shown,
            reference=labels[reference],
            path=out_dir / "plots" / name,
            xlabel=h.axes[0].label or name,
            as_points=(labels["unfolded"],),
            bands={labels["unfolded"]: error_bands(errors.get(name))},
            title=(
                f"OmniFold, {job.omnifold.iterations} iterations; particle level, "
                f"$Q^2 > {job.region.q2_min:g}$ GeV$^2$, "
                f"${job.region.y_min:g} < y < {job.region.y_max:g}$"
            ),
        )
        if reference == "data_truth":
            chi2[name] = {
                f"{g}_vs_data_truth": chi2_test(
                    groups["data_truth"][name], groups[g][name], normalize=True, min_entries=10
                ).chi2
                for g in ("sim_truth", "unfolded")
            }
            chi2[name]["ndof"] = chi2_test(
                groups["data_truth"][name], unfolded[name], normalize=True, min_entries=10
            ).ndof
    timings["results_s"] = time.perf_counter() - start
    summary_file = write_json(
        out_dir / "summary.json",
        {
            "data_file": str(job.data_file),
            "sim_file": str(job.sim_file),
            "executor": job.executor,
            "iterations": job.omnifold.iterations,
            "mc_scale": result.mc_scale,
            "data_events_reco": int(len(inputs.data_reco)),
            "sim_events": int(len(pass_reco)),
            "chi2_normalized_shapes": chi2,
            "uncertainty": {
                "repeats": u.repeats,
                "bootstrap": u.bootstrap,
                "training_seed": job.training_seed,
                "seeds": {s: job.seed_of(s) for s in SEEDED_SAMPLES},
            },
            "error_model": error_model(ERROR_MODEL, u.repeats, u.bootstrap),
            "uncertainties": {name: e.to_dict() for name, e in errors.items()},
            "models": [str(path.relative_to(out_dir)) for path in models],
            "timings_s": timings,
        },
    )
    return DISUnfoldingOutputs(
        histograms_file=histograms_file,
        weights_file=weights_file,
        summary_file=summary_file,
        plots=plots,
        histograms=groups,
        result=result,
        chi2=chi2,
        timings=timings,
        uncertainties=errors,
        runs=runs,
        replicas=replicas,
        models=models,
    )
