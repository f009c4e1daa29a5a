"""The ``samples:`` section of ``hepnnlr infer``: a physicist's ROOT files instead of the toy.

The files run through an analysis description (``samples.analysis``: a registered name,
default ``tautau``, or the path of a description YAML; docs/analysis.md) with
:func:`hepnnlr.processors.analysis.run_analysis`: the model inputs are features of its
``level``, the nuisance z of every event is the value of its one parameter with an
``expr``, and a feature ``is_signal`` (where it has one) gives the true signal fraction of
fitted files. The built-in case is the Pythia one of §3.1.2 of B. Sluijter, "Classifiers
versus Normalizing Flows for uncertainty-aware estimation of a signal ratio", MSc thesis,
Leiden University 2024, hdl:1887/4104579: signal H → ττ, background Z → ττ, the
hadronic-τ energy scale z as the nuisance, features m_vis and pT(ℓ)/pT(τ_h) of the
``tautau`` description. Its files are ``events`` trees written by
:func:`hepnnlr.samples.tautau_reco.make_tautau_sample` (or the same branches); the z of
each event is its ``tau_energy_scale`` branch, so training files may hold one z each or a
z drawn per event.

Roles of the files (``{process}_{role}``):

* ``signal_train``, ``background_train``: events at their own z (the training prior);
* ``signal_reference``, ``background_reference``: events at ``z0``, the negatives of the
  classifier route (§3.2.1 of hdl:1887/4104579);
* ``signal_test``, ``background_test``: held-out files per z, ``{z: [files]}``; test sets
  (the fitted pseudo-dataset and the coverage study) are drawn from them without
  replacement, with ``μ/(1+μ)`` of the events from the signal;
* ``data`` (optional): files fitted as they are (the simulated labels then give the true μ,
  and the ``tau_energy_scale`` branch the true z when it holds one value).

With a ``generate`` sub-section, missing training, reference and test files are made first
(:func:`hepnnlr.samples.tautau.generate_tautau` and
:func:`hepnnlr.samples.tautau_reco.simulate_tautau_detector`); test files at several z share
their generator events and detector random numbers (paired event by event).

Example (``examples/configs/infer_tautau.yaml``)::

    samples:
      analysis: tautau
      features: [m_vis, pt_ratio]
      relative_to: output_dir
      signal_train: [files/signal_train.root]
      ...
      generate: {train_events: 3000, train_passes: 4, z_range: [0.85, 1.15]}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.analysis import AnalysisDescription, load
from hepnnlr.errors import ConfigError, EmptySelectionError, InputFileError
from hepnnlr.schema.runner import EXECUTORS
from hepnnlr.workflows.infer_generate import (
    GenerateConfig,
    _positive_int,
    generate_missing_files,
)
from hepnnlr.workflows.infer_tables import (
    SampleTables,
    data_truth,
    feature_table,
    load_sample_tables,
)

__all__ = [
    "check_files",
    "data_truth",
    "feature_table",
    "generate_missing_files",
    "GenerateConfig",
    "load_sample_tables",
    "pool_test_set_maker",
    "prepare_samples",
    "SamplesConfig",
    "SampleTables",
    "train_sample_routes",
]

_LEVELS = ("reco", "gen")
_FILE_KEYS = (
    "signal_train",
    "background_train",
    "signal_reference",
    "background_reference",
    "data",
)
"""The keys holding a plain file list (the ``*_test`` keys map each z to a list)."""


@dataclass(frozen=True)
class SamplesConfig:
    """ROOT files, analysis and features of an inference on simulated samples.

    Attributes:
        analysis: The analysis description the files run through: a registered name
            (:func:`hepnnlr.analysis.names`; default ``"tautau"``) or the path of a YAML
            (relative to the job file). Its one parameter with an ``expr`` is the
            nuisance z.
        processor: The older name of ``analysis`` (deprecated: it names the same
            registry; give one of the two).
        features: Model inputs, features of the description's ``level``.
        level: ``"reco"`` (detector level) or ``"gen"``.
        z0: Reference value of the nuisance (the reference files' z).
        signal_train, background_train: Training files (z per event from the files).
        signal_reference, background_reference: Files at ``z0``.
        signal_test, background_test: Held-out files per true z: ``{z: [files]}``.
        data: Files fitted as they are (optional; otherwise the job's ``dataset`` is drawn
            from the test files).
        relative_to: Relative paths are taken from the YAML's folder (``"config"``) or from
            the job's ``output_dir`` (``"output_dir"``, for generated files).
        executor, workers, chunksize: coffea execution (:func:`hepnnlr.schema.run_processor`).
        subsample_training: The classifier's negatives take about half their events from each
            reference class, without replacement: keep at most 1.9 × the smaller reference
            class of training rows per process (the flow keeps all; both counts go to the
            summary). ``False``: an error where the references are too small.
        generate: Make missing files first (``None``: every file must exist).
    """

    signal_train: tuple[str, ...]
    background_train: tuple[str, ...]
    signal_reference: tuple[str, ...]
    background_reference: tuple[str, ...]
    signal_test: dict[float, tuple[str, ...]] = field(default_factory=dict)
    background_test: dict[float, tuple[str, ...]] = field(default_factory=dict)
    data: tuple[str, ...] = ()
    analysis: str | None = None
    processor: str | None = None
    features: tuple[str, ...] = ("m_vis", "pt_ratio")
    level: str = "reco"
    z0: float = 1.0
    relative_to: str = "config"
    executor: str = "iterative"
    workers: int = 1
    chunksize: int = 50_000
    subsample_training: bool = True
    generate: GenerateConfig | None = None

    def __post_init__(self) -> None:
        if self.analysis is not None and self.processor is not None:
            raise ConfigError(
                f"samples.analysis={self.analysis!r} and samples.processor={self.processor!r}: "
                "processor is the older name of analysis; keep analysis alone."
            )
        name = self.analysis or self.processor or "tautau"
        for key, value in (("analysis", self.analysis), ("processor", self.processor)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(
                    f"samples.{key}={value!r} must name an analysis (hepnnlr.analysis.names()) "
                    "or the path of a description YAML."
                )
        object.__setattr__(self, "analysis", name)
        object.__setattr__(self, "processor", None)
        if self.level not in _LEVELS:
            raise ConfigError(f"samples.level={self.level!r}; choose one of {list(_LEVELS)}.")
        description = self.description
        if self.level not in description.levels:
            raise ConfigError(
                f"samples.level={self.level!r}: the analysis {name!r} has the levels "
                f"{list(description.levels)}; choose one of them."
            )
        available = list(description.levels[self.level].features)
        features = (self.features,) if isinstance(self.features, str) else tuple(self.features)
        unknown = [f for f in features if f not in available]
        if unknown or not features:
            raise ConfigError(
                f"samples.features: unknown feature(s) {unknown} for analysis {name!r}; "
                f"available: {available}."
            )
        object.__setattr__(self, "features", features)
        self.nuisance  # noqa: B018 (the description has one: checked here)
        if self.relative_to not in ("config", "output_dir"):
            raise ConfigError(
                f"samples.relative_to={self.relative_to!r}; choose 'config' (the YAML's folder) "
                "or 'output_dir'."
            )
        if self.executor not in EXECUTORS:
            raise ConfigError(f"samples.executor={self.executor!r}; choose one of {EXECUTORS}.")
        _positive_int(self.workers, "samples.workers")
        _positive_int(self.chunksize, "samples.chunksize")
        for key in _FILE_KEYS:
            object.__setattr__(
                self,
                key,
                _file_list(getattr(self, key), f"samples.{key}", allow_empty=key == "data"),
            )
        for key in ("signal_test", "background_test"):
            value = getattr(self, key)
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"samples.{key} must map each true z to its files, e.g. "
                    f"{{1.0: [{key}_1.0.root]}}, got {value!r}."
                )
            tests = {}
            for z, files in value.items():
                try:
                    z_value = float(z)
                except (TypeError, ValueError) as error:
                    raise ConfigError(f"samples.{key}: key {z!r} is not a number (a z).") from error
                tests[z_value] = _file_list(files, f"samples.{key}[{z}]")
            object.__setattr__(self, key, tests)
        if set(self.signal_test) != set(self.background_test):
            raise ConfigError(
                f"samples.signal_test has z values {sorted(self.signal_test)} but "
                f"samples.background_test {sorted(self.background_test)}; give both processes "
                "at the same z."
            )
        if self.generate is not None and self.analysis != "tautau":
            raise ConfigError("samples.generate makes ττ files only: use analysis 'tautau'.")

    @property
    def description(self) -> AnalysisDescription:
        """The analysis (:func:`hepnnlr.analysis.load` of ``analysis``)."""
        return load(self.analysis)

    @property
    def nuisance(self) -> str:
        """The nuisance z: the description's one parameter with a per-event ``expr``."""
        parameters = self.description.parameters
        named = [n for n, p in parameters.items() if p.expr is not None]
        if len(named) != 1:
            raise ConfigError(
                f"samples.analysis={self.analysis!r}: the nuisance z is the description's one "
                f"parameter with an expr (its value per event); it has {named or 'none'}. "
                "Declare exactly one, e.g. parameters: {z: {low: 0.9, high: 1.1, expr: "
                "tau_energy_scale}}."
            )
        return named[0]

    @property
    def z_label(self) -> str:
        """The nuisance's axis label: its ``label`` in the description, else its name."""
        parameter = self.description.parameters[self.nuisance]
        return parameter.label or parameter.name

    @property
    def test_z(self) -> tuple[float, ...]:
        return tuple(sorted(self.signal_test))

    def files(self) -> dict[str, tuple[Path, ...]]:
        """Every file by its config key (``signal_test[0.9]`` for test files)."""
        out = {key: tuple(Path(f) for f in getattr(self, key)) for key in _FILE_KEYS}
        for key in ("signal_test", "background_test"):
            for z, files in getattr(self, key).items():
                out[f"{key}[{z:g}]"] = tuple(Path(f) for f in files)
        return out

    def resolved(self, base: str | Path) -> SamplesConfig:
        """A copy with relative paths taken from ``base``."""
        base = Path(base)

        def fix(files):
            return tuple(str(p if Path(p).is_absolute() else base / p) for p in files)

        return replace(
            self,
            **{key: fix(getattr(self, key)) for key in _FILE_KEYS},
            signal_test={z: fix(f) for z, f in self.signal_test.items()},
            background_test={z: fix(f) for z, f in self.background_test.items()},
        )


def _file_list(value: Any, where: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    files = (value,) if isinstance(value, str | Path) else value
    if not isinstance(files, list | tuple) or not all(isinstance(f, str | Path) for f in files):
        raise ConfigError(f"{where} must be a file name or a list of them, got {value!r}.")
    if not files and not allow_empty:
        raise ConfigError(f"{where} is empty; give at least one ROOT file.")
    return tuple(str(f) for f in files)


def check_files(spec: SamplesConfig) -> None:
    """Every file of ``spec`` exists, or an :class:`InputFileError` names its key."""
    for key, files in spec.files().items():
        for path in files:
            if not path.is_file():
                fix = (
                    "fix the path"
                    if spec.generate is not None or key == "data"
                    else "fix the path or add a samples.generate section to make it"
                )
                if spec.generate is not None and key == "data":
                    fix += " (samples.generate does not make data files)"
                raise InputFileError(f"samples.{key}: file {path} does not exist; {fix}.")


# --- routes and test sets -----------------------------------------------------------------


def train_sample_routes(
    tables: SampleTables,
    routes: Sequence[str],
    spec: SamplesConfig,
    *,
    classifier: Any = None,
    flow: Any = None,
    training: Any = None,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """Classifier and flow likelihoods of the selected training events.

    Returns:
        ``({route: MixtureLikelihood}, {route: {process: training rows used}})``.
    """
    from hepnnlr.methods.signal_strength import (
        ParameterizedSample,
        train_classifier_route,
        train_flow_route,
    )

    features = spec.features
    full = {p: ParameterizedSample(t["x"], t["z"], features) for p, t in tables.train.items()}
    out: dict[str, Any] = {}
    used: dict[str, dict[str, int]] = {}
    if "classifier" in routes:
        limit = int(1.9 * min(len(t["x"]) for t in tables.reference.values()))
        rng = np.random.default_rng(seed)
        samples = {}
        for p, sample in full.items():
            if len(sample) > limit:
                if not spec.subsample_training:
                    raise EmptySelectionError(
                        f"samples: {len(sample)} selected {p} training events but the classifier"
                        f" negatives need about half as many from each reference class (the "
                        f"smaller has {limit / 1.9:.0f}); add reference events or set "
                        "samples.subsample_training: true."
                    )
                keep = np.sort(rng.choice(len(sample), size=limit, replace=False))
                sample = ParameterizedSample(sample.x[keep], sample.z[keep], features)
            samples[p] = sample
        used["classifier"] = {p: len(s) for p, s in samples.items()}
        out["classifier"] = train_classifier_route(
            samples["signal"],
            samples["background"],
            tables.reference["signal"]["x"],
            tables.reference["background"]["x"],
            spec=classifier,
            config=training,
        )
    if "flow" in routes:
        used["flow"] = {p: len(s) for p, s in full.items()}
        out["flow"] = train_flow_route(
            full["signal"], full["background"], spec=flow, config=training
        )
    return out, used


def pool_test_set_maker(
    pools: Mapping[tuple[str, float], np.ndarray],
) -> Callable[[float, float, int, np.random.Generator], np.ndarray]:
    """``(μ, z, N, rng) -> events``: ``round(N μ/(1+μ))`` signal and the rest background
    events at ``z``, drawn without replacement from the held-out pools."""
    known = sorted({z for _, z in pools})

    def make(mu: float, z: float, n: int, rng: np.random.Generator) -> np.ndarray:
        match = [k for k in known if np.isclose(k, z, rtol=0, atol=1e-9)]
        if not match:
            raise ConfigError(
                f"no test files at z={z:g}: samples.signal_test/background_test have z "
                f"{known}; choose one of them or add files at that z."
            )
        n_sig = int(round(n * mu / (1.0 + mu)))
        parts = []
        for process, k in (("signal", n_sig), ("background", n - n_sig)):
            pool = pools[(process, match[0])]
            if k > len(pool):
                raise EmptySelectionError(
                    f"a test set at mu={mu:g}, z={z:g} needs {k} {process} events but "
                    f"samples.{process}_test[{match[0]:g}] holds {len(pool)} selected ones; "
                    "lower n_events or give more test events."
                )
            parts.append(pool[rng.choice(len(pool), size=k, replace=False)])
        return np.concatenate(parts)

    return make


def prepare_samples(job: Any, keep: Callable[[Callable[[], tuple]], tuple] | None = None) -> tuple:
    """The samples steps of :func:`hepnnlr.workflows.infer.run_inference` for a job with a
    ``samples`` section: generate missing files, check them, run the processor, train the
    routes, and build the fitted dataset and the test-set maker. ``keep(train)``: the
    routes and the training rows used, ``train()``'s or a checkpoint's
    (:meth:`hepnnlr.workflows.infer_checkpoint.InferUnits.routes`).

    Returns:
        ``(likelihoods, data, truth, make_test_set, summary, tag, retrain)``; ``tag`` is
        ``"data"`` for ``samples.data`` files, else ``"dataset"`` (drawn from the test
        files); ``retrain`` maps a training seed to the routes trained on the same events
        (the same subsample of the classifier's training rows).
    """
    spec = job.samples
    started = time.process_time()
    generated = generate_missing_files(spec)
    check_files(spec)
    cpu = {"generation": time.process_time() - started}
    tables = load_sample_tables(spec, progress=job.progress)
    cpu["processor"] = time.process_time() - started - cpu["generation"]
    likelihoods, used = (keep or (lambda train: train()))(
        lambda: train_sample_routes(
            tables,
            job.routes,
            spec,
            classifier=job.classifier,
            flow=job.flow,
            training=job.training,
            seed=job.training.seed,
        )
    )
    cpu["training"] = time.process_time() - started - sum(cpu.values())
    make_test_set = pool_test_set_maker(tables.test)
    if spec.data:
        data, truth, tag = tables.data["x"], data_truth(tables.data), "data"
    else:
        truth = {"mu": float(job.dataset.mu), "z": float(job.dataset.z)}
        data = make_test_set(
            truth["mu"],
            truth["z"],
            int(job.dataset.n_events),
            np.random.default_rng(job.dataset.seed),
        )
        tag = "dataset"
    summary = {
        "samples": {
            "analysis": spec.analysis,
            "features": list(spec.features),
            "level": spec.level,
            "z0": spec.z0,
            "generated": [str(p) for p in generated],
            "selected_events": tables.counts(),
            "training_events_used": used,
            "cutflow": tables.cutflow,
            "cutflow_all_files": tables.cutflow_all_files(),
            "cpu_seconds": cpu,
        },
        "truth": truth,
        "n_events": len(data),
    }

    def retrain(seed: int) -> dict[str, Any]:
        return train_sample_routes(
            tables,
            job.routes,
            spec,
            classifier=job.classifier,
            flow=job.flow,
            training=replace(job.training, seed=seed),
            seed=job.training.seed,
        )[0]

    return likelihoods, data, truth, make_test_set, summary, tag, retrain


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
GenerateSpec = GenerateConfig
SamplesSpec = SamplesConfig
