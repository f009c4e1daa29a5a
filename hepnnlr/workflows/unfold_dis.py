"""Unfold "data" with a paired simulation through an analysis description: ROOT files ->
coffea (:class:`hepnnlr.processors.AnalysisProcessor`) -> OmniFold -> results.

The job names its analysis (``analysis``: a built-in name such as ``dis``, the default,
or the path of a description YAML; docs/analysis.md); the description gives the network
inputs (each level's particle and event features), the selections (``pass_gen``,
``pass_reco``), the observables of every histogram and the truth region.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import awkward as ak
import hist
import numpy as np

from hepnnlr.analysis import AnalysisDescription, Expression, Reference, load, parse
from hepnnlr.errors import ConfigError
from hepnnlr.methods.omnifold_config import OmniFoldConfig
from hepnnlr.observables.dataset_histos import select_dataset
from hepnnlr.observables.dis import KinematicRegion
from hepnnlr.outputs import write_json
from hepnnlr.results.hist_layout import write_region_histograms
from hepnnlr.results.plots import plot_comparison
from hepnnlr.results.uncertainties import BinErrors
from hepnnlr.schema import input_location
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.config import PlotConfig, as_plot_settings
from hepnnlr.workflows.uncertainty import count, error_model
from hepnnlr.workflows.unfold_inputs import (
    UnfoldingInputs,
    parse_region,
    prepare_inputs,
    truth_histograms,
)
from hepnnlr.workflows.unfold_outputs import save_unfolding_models, write_unfolding_weights
from hepnnlr.workflows.unfold_report import (
    ERROR_MODEL,
    UnfoldUncertaintyConfig,
    comparison,
    error_bands,
    truth_chi2,
    unfolding_errors,
    unfolding_regions,
    with_total,
)
from hepnnlr.workflows.unfold_truth import check_data_truth

if TYPE_CHECKING:  # the unfolding trains networks (TensorFlow): imported where it runs
    from hepnnlr.methods.omnifold import OmniFoldResult
    from hepnnlr.methods.omnifold_ensembles import EnsembleOfUnfoldings

_LOG = logging.getLogger(__name__)

__all__ = [
    "DISInputs",
    "DISUnfoldingJob",
    "UnfoldingInputs",
    "UnfoldingJob",
    "DISUnfoldingOutputs",
    "SEEDED_SAMPLES",
    "UNFOLD_OMNIFOLD",
    "UnfoldUncertaintyConfig",
    "prepare_dis_inputs",
    "prepare_inputs",
    "run_dis_unfolding",
    "truth_histograms",
]

#: The DIS description's per-particle network inputs: log10 pT, eta - eta_e, phi - phi_e,
#: charge (a job's default is its analysis's own particle features).
PARTICLE_FEATURES = ("log_pt", "deta", "dphi", "charge")
#: The DIS description's event-level network inputs: log10 Q^2, y, eta_e.
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
    """One unfolding of "data" with a paired simulation, through an analysis description
    (the name is from when it unfolded DIS alone; ``UnfoldingJob`` is the same class).

    Attributes:
        data_file, sim_file: ROOT event files in the analysis's format; the data file's
            particle level, when present, is used only for the comparison.
        data_truth: Whether the data file has the particle level (the ``data_truth``
            histograms and the χ² against them): ``auto`` (default) where it holds every
            event field the description's ``gen`` level reads, ``false`` for real data
            (processed at the ``reco`` level alone), ``true`` to require it
            (:mod:`hepnnlr.workflows.unfold_truth`).
        data_weight: The data's event weight, an expression over the data file's fields
            (``1`` for real data, which have no ``genWeight``); None: the description's
            ``weight``, as for the simulation.
        analysis: The analysis description: a registered name (``dis``, ``dis_nanoaod``,
            ``pfnano_particles``, ...; :func:`hepnnlr.analysis.names`) or the path of a
            description YAML (docs/analysis.md). It needs a ``gen`` and a ``reco`` level.
        output_dir: Where histograms, weights, plots and the summary go (default
            ``hepnnlr-unfold`` in the working folder).
        executor: ``iterative``, ``futures`` or ``dask`` (coffea executors).
        workers: Worker processes for ``futures`` and the local dask cluster.
        scheduler_address: Connect to this dask scheduler instead of a local cluster.
        chunksize: Events per coffea chunk.
        omnifold: OmniFold settings (default :data:`UNFOLD_OMNIFOLD`).
        particle_features, global_features: Network inputs, the same names at both levels
            (fields of the level's particle set and event features); None: each level's
            own (the description's ``particles.features`` and ``features``); ``()``: none.
        region: Particle-level phase space of the truth-level (unfolded, simulation and
            data truth) histograms; the unfolding itself uses every ``pass_gen`` event. An
            expression over the gen observables and features by name (``Q2 > 150 and
            0.08 < y < 0.7``), a :class:`KinematicRegion` (the same cut on the ``Q2`` and
            ``y`` observables), or None: the description's ``gen.region`` (every
            ``pass_gen`` event where it has none).
        uncertainty: Runs with other training seeds (method) and bootstrap replicas of
            the data (statistical); see :class:`UnfoldUncertaintyConfig`.
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
        plots: The comparison figures (:class:`~hepnnlr.workflows.config.PlotConfig`:
            ``enabled``, ``style``, ``label``, ``formats``; ``plots: false`` draws none),
            PNG and PDF under ``output_dir/plots``, labelled ``Pseudo-data`` where the data
            have their truth, ``Internal`` otherwise, unless ``label`` says. Off, the
            histograms they are drawn from are still written (``histograms.root``) and
            :func:`hepnnlr.results.plot_comparison` redraws any of them. Drawing costs about
            a CPU second per observable, more than a small unfolding's training.
    """

    data_file: Path | str
    sim_file: Path | str
    output_dir: Path = Path("hepnnlr-unfold")
    analysis: str = "dis"
    executor: str = "futures"
    workers: int = 2
    scheduler_address: str | None = None
    chunksize: int = 25_000
    omnifold: OmniFoldConfig = UNFOLD_OMNIFOLD
    particle_features: tuple[str, ...] | None = None
    global_features: tuple[str, ...] | None = None
    region: KinematicRegion | str | None = None
    uncertainty: UnfoldUncertaintyConfig = UnfoldUncertaintyConfig()
    seeds: dict[str, int] = field(default_factory=dict)
    runs: int | None = None
    bootstrap: int | None = None
    progress: bool = True
    save_models: str = "final"
    plots: PlotConfig | bool = PlotConfig()
    data_truth: bool | str = "auto"
    data_weight: str | float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "plots", as_plot_settings(self.plots))
        check_data_truth(self.data_truth)
        if self.data_weight is not None:  # a typo fails here, with the key
            parse(self.data_weight, key="data_weight")
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
        for name in ("particle_features", "global_features"):
            value = getattr(self, name)
            if isinstance(value, str):  # one name
                value = (value,)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        if self.particle_features == () and self.global_features == ():
            raise ConfigError("DISUnfoldingJob needs particle_features, global_features or both.")
        if not isinstance(self.analysis, str) or not self.analysis:
            raise ConfigError(
                f"DISUnfoldingJob.analysis={self.analysis!r} must name an analysis "
                "(hepnnlr.analysis.names()) or the path of a description YAML."
            )
        if self.region is not None and not isinstance(self.region, KinematicRegion | str):
            raise ConfigError(
                f"DISUnfoldingJob.region={self.region!r} must be an expression over the gen "
                "observables (e.g. 'Q2 > 150 and 0.08 < y < 0.7'), a KinematicRegion or null."
            )
        self.description  # noqa: B018 (loads it: a bad name or file fails here)
        self.truth_region  # noqa: B018 (parses it: a syntax error fails here)

    def _move_deprecated(self) -> None:
        """``runs``/``bootstrap`` (before issue 15) into ``uncertainty``, with a warning."""
        moved = {}
        for old, new in (("runs", "repeats"), ("bootstrap", "bootstrap")):
            value = getattr(self, old)
            if value is None:
                continue
            current = getattr(self.uncertainty, new)
            if current != getattr(UnfoldUncertaintyConfig(), new) and current != value:
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

    @cached_property
    def description(self) -> AnalysisDescription:
        """The analysis description (:func:`hepnnlr.analysis.load` of ``analysis``)."""
        return load(self.analysis)

    @cached_property
    def truth_region(self) -> Expression | Reference | None:
        """The truth histograms' region as an expression (see ``region``)."""
        region = self.region
        if isinstance(region, KinematicRegion):
            return parse_region(
                f"Q2 > {region.q2_min!r} and {region.y_min!r} < y < {region.y_max!r}"
            )
        if isinstance(region, str):
            return parse_region(region)
        return self.description.levels["gen"].region if "gen" in self.description.levels else None

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
    """What :func:`run_dis_unfolding` produced.

    ``histograms``: ``{group: {observable: Hist}}`` (``data_reco``, ``sim_reco``,
    ``sim_truth``, ``data_truth`` where the data have their truth, ``unfolded``);
    ``regions``: the same as ``histograms.root`` holds them, ``{<level>_<observable>:
    Hist}`` with the ``dataset`` and ``variation`` axes
    (:func:`~hepnnlr.workflows.unfold_report.unfolding_regions`)."""

    histograms_file: Path
    weights_file: Path
    summary_file: Path
    plots: list[Path]
    histograms: dict[str, dict[str, hist.Hist]]
    result: OmniFoldResult
    chi2: dict[str, dict[str, float]]
    regions: dict[str, hist.Hist] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    uncertainties: dict[str, BinErrors] = field(default_factory=dict)
    runs: EnsembleOfUnfoldings | None = None
    replicas: EnsembleOfUnfoldings | None = None
    models: list[Path] = field(default_factory=list)


#: The job's name without the analysis it started with.
UnfoldingJob = DISUnfoldingJob
#: The old names of the inputs (before the unfolding ran on descriptions).
DISInputs = UnfoldingInputs
prepare_dis_inputs = prepare_inputs


def run_dis_unfolding(job: DISUnfoldingJob) -> DISUnfoldingOutputs:
    """Run the whole unfolding described by ``job`` and write its outputs.

    Steps: the analysis's processor on both files (histograms, network inputs and the
    observables of every event), tensors and standardization, OmniFold, unfolded
    histograms, a ROOT file of histograms, a parquet file of per-event weights, mplhep
    plots, and a JSON summary with chi2 comparisons. Its progress notes go to the
    ``hepnnlr.workflows.unfold_dis`` logger (INFO).
    """
    from hepnnlr.methods.omnifold_ensembles import bootstrap_omnifold, parallel_omnifold

    timings: dict[str, float] = {}
    start = time.perf_counter()
    inputs = prepare_inputs(job)
    timings["processing_s"] = time.perf_counter() - start
    output, data, sim = inputs.output, inputs.data, inputs.sim
    pass_reco, pass_gen = inputs.pass_reco, inputs.pass_gen
    _LOG.info(
        "OmniFold: %d data events, %d simulated events at detector level, %d at particle "
        "level, %d iterations",
        len(inputs.data_reco),
        int(pass_reco.sum()),
        int(pass_gen.sum()),
        job.omnifold.iterations,
    )

    def announce(iteration: int, step: str) -> None:
        _LOG.info("  iteration %d: training %s", iteration, step)

    start = time.perf_counter()
    callback = announce
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
        _LOG.info(
            "%d bootstrap replicas of the data (Poisson(1) weights, seed %s; OmniFold "
            "retrained per replica)",
            u.bootstrap,
            job.seed_of("data"),
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
        return truth_histograms(columns, weights, job.description, job.truth_region)

    # Everything is written in units of data events: the simulation's histograms are
    # scaled by the same factor OmniFold applied to its weights.
    # The ROOT file keeps one-axis histograms: each dataset's row is selected first.
    sim_reco = select_dataset(output["hists"]["reco"], "sim")
    groups = {
        "data_reco": select_dataset(output["hists"]["reco"], "data"),
        "sim_reco": {k: h * result.mc_scale for k, h in sim_reco.items()},
        "sim_truth": truth(sim, result.sim_weights),
        "unfolded": truth(sim, final),
    }
    errors: dict[str, BinErrors] = {}
    if u.repeats > 1 or replicas is not None:
        errors = unfolding_errors(groups["unfolded"], lambda w: truth(sim, w), runs, replicas)
        groups["unfolded"] = with_total(groups["unfolded"], errors)
    unfolded = groups["unfolded"]
    if inputs.data_truth and ak.any(data["pass_gen"]):  # real data have no gen level
        groups["data_truth"] = truth(data, ak.to_numpy(data["weight"]).astype(np.float64))
    out_dir = job.output_dir
    regions = unfolding_regions(groups, errors)
    histograms_file = write_region_histograms(out_dir / "histograms.root", regions)
    weights_file = write_unfolding_weights(
        out_dir / "weights.parquet", job, sim, final, runs, replicas
    )
    models = save_unfolding_models(job, inputs, runs, replicas)

    compared = comparison("data_truth" in groups)
    labels = {
        "data_truth": "data truth",
        "sim_truth": "simulation truth (prior)",
        "unfolded": "unfolded (OmniFold)",  # the band's legend entry names its parts
    }
    style = job.plots.look(compared["label"])
    plots: list[Path] = []
    chi2: dict[str, dict[str, float]] = {}
    region = job.truth_region
    region_title = "particle level" + ("" if region is None else f", {region.to_text()}")
    if not compared["data_truth"]:
        region_title += "; data without truth"
    for name, h in unfolded.items():
        if h.sum().value == 0:
            continue
        if job.plots.enabled:
            shown = {
                labels[g]: groups[g][name]
                for g in ("data_truth", "sim_truth", "unfolded")
                if g in groups
            }
            plots += plot_comparison(
                shown,
                reference=labels[compared["reference"]],
                path=out_dir / "plots" / name,
                xlabel=h.axes[0].label or name,
                as_points=(labels["unfolded"],),
                bands={labels["unfolded"]: error_bands(errors.get(name))},
                title=f"OmniFold, {job.omnifold.iterations} iterations; {region_title}",
                formats=job.plots.formats,
                style=style,
            )
        tests = truth_chi2(groups, name)
        if tests is not None:
            chi2[name] = tests
    timings["results_s"] = time.perf_counter() - start
    summary_file = write_json(
        out_dir / "summary.json",
        {
            "data_file": str(job.data_file),
            "sim_file": str(job.sim_file),
            "analysis": job.description.name,
            "truth_region": None if region is None else region.to_text(),
            "executor": job.executor,
            "iterations": job.omnifold.iterations,
            "mc_scale": result.mc_scale,
            "data_events_reco": int(len(inputs.data_reco)),
            "sim_events": int(len(pass_reco)),
            "comparison": {**compared, "label": style.label},
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
        regions=regions,
        result=result,
        chi2=chi2,
        timings=timings,
        uncertainties=errors,
        runs=runs,
        replicas=replicas,
        models=models,
    )


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
UnfoldUncertainty = UnfoldUncertaintyConfig
