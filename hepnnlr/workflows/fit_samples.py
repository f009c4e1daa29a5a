"""The ``samples`` section of a fit job: generators, fitted parameters, sizes and seeds.

:class:`SampleConfig` is the ``samples:`` mapping of a ``hepnnlr fit`` job
(:mod:`hepnnlr.workflows.fit_config`); :mod:`hepnnlr.workflows.fit_inputs` draws or
generates the samples it describes. Each sample has its own seed
(:meth:`SampleConfig.seed_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hepnnlr.analysis import Dataset, get, parse
from hepnnlr.errors import ConfigError
from hepnnlr.processors.analysis import DATA_KEY
from hepnnlr.workflows.unfold_truth import check_data_truth

__all__ = [
    "EXECUTORS",
    "GENERATORS",
    "PARAMETERS",
    "SAMPLES",
    "CalibrationConfig",
    "SampleConfig",
    "check_file_samples",
    "generator_parameters",
    "resolve_files",
]

GENERATORS = ("gaussian", "zjets", "ttbar")
"""The Gaussian toy and the Pythia generators, each of the latter with its namesake
analysis description (:func:`hepnnlr.analysis.get`)."""


def generator_parameters(generator: str) -> tuple[str, ...]:
    """The parameters ``generator`` can vary: ``mu``, ``sigma`` of the Gaussian toy; for a
    Pythia generator those its analysis description declares (``zjets.yaml``:
    :class:`hepnnlr.samples.ZJetsTheta`'s fields; ``ttbar.yaml``: ``top_mass``)."""
    if generator == "gaussian":
        return ("mu", "sigma")
    return tuple(get(generator).parameters)


PARAMETERS = {generator: generator_parameters(generator) for generator in GENERATORS}
"""Parameters each generator can vary (:func:`generator_parameters`)."""
FILES = "files"
"""``samples.generator`` of a job on the user's own files (``samples.files``)."""
EXECUTORS = ("iterative", "futures", "dask")
SAMPLES = ("nominal", "target", "varied")
"""The samples of a fit job, in the order of their default seed offsets."""


def _pairs(value: Any, where: str) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping {{name: [low, high]}}, got {value!r}.")
    out = {}
    for name, bounds in value.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{where}.{name} must be [low, high], got {bounds!r}.") from error
        if not low < high:
            raise ConfigError(f"{where}.{name} = [{low}, {high}]: need low < high.")
        out[str(name)] = (low, high)
    return out


def _points(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping {{name: value}}, got {value!r}.")
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where} values must be numbers, got {value!r}.") from error


@dataclass(frozen=True)
class SampleConfig:
    """The samples of a fit.

    Attributes:
        generator: ``"gaussian"`` (x_G ~ N(μ, σ²), x_S = x_G + N(0, ε²)), ``"zjets"``
            (e+e- -> Z -> jets, parameters ``alphaS``, ``aLund``, ``probStoUD``) or
            ``"ttbar"`` (parameter ``top_mass``).
        parameters: The fitted parameters and the range their values are drawn from for
            the varied sample: ``{name: [low, high]}``.
        nominal: Parameter values of the nominal sample (unset ones: the generator's
            defaults: μ = 0, σ = 1; Monash; m_t = 172.5).
        target: Parameter values of the target ("data") sample; unset ones take the
            nominal values. Fitted ones must lie inside ``parameters``.
        events: Events of the nominal sample (half trains the reweighter, half is fitted).
        target_events: Events of the target sample (default: ``events // 2``).
        varied_events: Events of the varied sample (default: ``events // 2``).
        runs: Generator runs of the varied Pythia sample, each at its own θ drawn from
            ``parameters`` (``gaussian`` draws θ per event).
        seed: Base seed of the samples: by default the nominal sample uses ``seed``, the
            target ``seed + 1``, the varied sample ``seed + 2`` (Pythia: its θ draws;
            run ``r`` is generated with ``seed + 10 + r``). Also the default of
            ``uncertainty.seed`` (the trainings).
        seeds: Per-sample seeds that replace those defaults: ``{nominal: …, target: …,
            varied: …}`` (any subset; see :meth:`seed_of`). A new target with the same
            simulation: change ``seeds.target`` alone.
        epsilon: Detector smearing of ``gaussian``.
        workers, executor, chunksize: Generation processes and coffea execution.
        mpi: Multiparton interactions in ``ttbar`` (slower).
        reuse: Reuse a Pythia ROOT file under ``output_dir/samples`` that an earlier run
            generated with the same generator, parameter point, size and seed (recorded
            in ``<file>.json``; the reused files are listed in ``fit.json``). ``false``
            regenerates every file.
        files: The user's own files instead of generation: ``{nominal: [...], varied:
            [...], target: [...]}``, each a list of files, a coffea fileset mapping
            ``{file: tree}`` or a dataset as in a description's ``datasets`` (``{files:
            ..., metadata: {is_data: true}, weight: 1}``; relative paths: from the job
            file), read through the job's ``analysis``; the varied events' θ are the values
            of its parameters' ``expr``. ``generator`` is then ``files``.
        data_truth: Whether the target files carry the generator level, as the ``data_truth``
            of an unfolding (:mod:`hepnnlr.workflows.fit_data`): ``auto`` (default) looks
            for the fields the analysis's ``gen`` level reads, ``false`` is real data (as
            the target's metadata ``is_data: true``), ``true`` requires them.
        data_weight: The target's event weight (an expression; ``1`` for real data) where
            the analysis's ``weight`` reads fields real data lack (``genWeight``).
    """

    generator: str = "gaussian"
    parameters: dict[str, tuple[float, float]] = field(default_factory=dict)
    nominal: dict[str, float] = field(default_factory=dict)
    target: dict[str, float] = field(default_factory=dict)
    events: int = 20_000
    target_events: int | None = None
    varied_events: int | None = None
    runs: int = 8
    seed: int = 1
    seeds: dict[str, int] = field(default_factory=dict)
    epsilon: float = 0.5
    workers: int = 1
    executor: str = "iterative"
    chunksize: int = 25_000
    mpi: bool = False
    reuse: bool = True
    files: dict[str, Any] = field(default_factory=dict)
    data_truth: bool | str = "auto"
    data_weight: str | float | None = None

    def __post_init__(self) -> None:
        for name in ("mpi", "reuse"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"samples.{name}={getattr(self, name)!r} must be true or false.")
        check_data_truth(self.data_truth)
        if self.data_weight is not None:  # a typo fails here, with the key
            parse(self.data_weight, key="samples.data_weight")
        if self.files:
            self._check_files()
        elif self.data_truth != "auto" or self.data_weight is not None:
            raise ConfigError(
                "samples.data_truth / samples.data_weight describe the target among your "
                "files (samples.files); a generated target carries its generator level and "
                "weight: remove them."
            )
        elif self.generator not in GENERATORS:
            raise ConfigError(f"samples.generator={self.generator!r}; choose one of {GENERATORS}.")
        # the files' parameters are the job's analysis's (FitJob checks them)
        allowed = PARAMETERS.get(self.generator) or tuple(self.parameters) or ("theta",)
        ranges = _pairs(self.parameters, "samples.parameters")
        object.__setattr__(self, "parameters", ranges)
        object.__setattr__(self, "nominal", _points(self.nominal, "samples.nominal"))
        object.__setattr__(self, "target", _points(self.target, "samples.target"))
        if not ranges:
            raise ConfigError(
                f"samples.parameters is empty; name the parameter(s) to fit with their "
                f"range, e.g. {{{allowed[0]}: [low, high]}} (allowed: {list(allowed)})."
            )
        for what, mapping in (
            ("parameters", ranges),
            ("nominal", self.nominal),
            ("target", self.target),
        ):
            if self.generator == FILES:
                continue
            unknown = sorted(set(mapping) - set(allowed))
            if unknown:
                raise ConfigError(
                    f"samples.{what}: unknown parameter(s) {unknown} for generator "
                    f"{self.generator!r}; allowed: {list(allowed)}."
                )
        if self.generator == "gaussian" and "sigma" in ranges and ranges["sigma"][0] <= 0:
            raise ConfigError(f"samples.parameters.sigma = {ranges['sigma']}: need low > 0.")
        for name, (low, high) in ranges.items():
            value = self.target.get(name, self.nominal.get(name))
            if value is not None and not low <= value <= high:
                raise ConfigError(
                    f"samples.target.{name} = {value} lies outside samples.parameters.{name} "
                    f"= [{low}, {high}]: the reweighter is trained on that range only; widen "
                    "the range to contain the target."
                )
        for name in ("events", "runs", "workers", "chunksize"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"samples.{name}={value!r} must be a positive integer.")
        for name in ("target_events", "varied_events"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 2):
                raise ConfigError(f"samples.{name}={value!r} must be an integer >= 2.")
        if self.events < 4:
            raise ConfigError(f"samples.events={self.events}: need at least 4 events.")
        if not isinstance(self.seeds, dict):
            raise ConfigError(
                f"samples.seeds must be a mapping {{sample: seed}} with samples among "
                f"{list(SAMPLES)}, got {self.seeds!r}."
            )
        unknown = sorted(set(self.seeds) - set(SAMPLES))
        if unknown:
            raise ConfigError(
                f"samples.seeds: unknown sample(s) {unknown}; a fit job has the samples "
                f"{list(SAMPLES)}."
            )
        for name, value in {
            "seed": self.seed,
            **{f"seeds.{k}": v for k, v in self.seeds.items()},
        }.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"samples.{name}={value!r} must be an integer >= 0.")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"samples.executor={self.executor!r}; choose one of {EXECUTORS}.")
        if not self.epsilon >= 0:
            raise ConfigError(f"samples.epsilon={self.epsilon} must be >= 0.")

    def _check_files(self) -> None:
        if self.generator not in ("gaussian", FILES):  # (gaussian: the default, not given)
            raise ConfigError(
                f"samples.files and samples.generator={self.generator!r} both say where the "
                "samples come from; keep files (your files) or generator (generated ones)."
            )
        object.__setattr__(self, "generator", FILES)
        if not isinstance(self.files, dict) or set(self.files) != set(SAMPLES):
            raise ConfigError(
                f"samples.files must map each of {list(SAMPLES)} to its files, e.g. "
                f"{{nominal: [nominal.root], varied: [varied.root], target: [data.root]}}, "
                f"got {self.files!r}."
            )
        for name, value in self.files.items():
            if isinstance(value, dict) and "files" in value:  # a description's dataset
                value = value["files"]
            listed = value if isinstance(value, (list, tuple, dict)) else None
            if not listed or not all(isinstance(f, str) for f in listed):
                raise ConfigError(
                    f"samples.files.{name} must be a list of files, a mapping {{file: "
                    f"tree}} (a coffea fileset) or a dataset {{files: ..., metadata: ...}}, "
                    f"got {self.files[name]!r}."
                )
        for name in ("nominal", "varied"):
            if self._metadata(name).get(DATA_KEY):
                raise ConfigError(
                    f"samples.files.{name} says {DATA_KEY}: true, but the {name} sample is "
                    "the simulation the reweighter learns from, with both levels; only the "
                    "target can be real data."
                )
        marked = self._metadata("target").get(DATA_KEY, False)
        if not isinstance(marked, bool):
            raise ConfigError(
                f"samples.files.target: metadata {DATA_KEY}={marked!r} must be true (real "
                "data: the reco level alone) or false."
            )
        if marked and self.data_truth is True:
            raise ConfigError(
                f"samples.data_truth: true, but samples.files.target says {DATA_KEY}: true "
                "(real data, without generator level); keep one of them."
            )
        raw = self.files["target"]
        if (
            self.data_weight is not None
            and isinstance(raw, dict)
            and {"files", "weight"} <= set(raw)
        ):
            raise ConfigError(
                "samples.data_weight and samples.files.target.weight both give the target's "
                "event weight; keep one of them."
            )

    def _metadata(self, name: str) -> dict[str, Any]:
        metadata = self.dataset(name).get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ConfigError(
                f"samples.files.{name}.metadata must be a mapping, e.g. {{{DATA_KEY}: true}}, "
                f"got {metadata!r}."
            )
        return metadata

    def dataset(self, name: str) -> dict[str, Any]:
        """The files of sample ``name`` as a description's dataset (``{files, metadata,
        weight}``, :meth:`hepnnlr.analysis.AnalysisDescription.with_fileset`); the target
        with ``data_weight`` as its weight."""
        value = self.files[name]
        out = dict(value) if isinstance(value, dict) and "files" in value else {"files": value}
        if name == "target" and self.data_weight is not None:
            out["weight"] = self.data_weight
        return out

    @property
    def target_marked_data(self) -> bool:
        """The target is real data by the job's word: ``data_truth: false`` or its
        dataset's metadata ``is_data: true`` (``data_truth: auto`` may find it so too:
        :func:`hepnnlr.workflows.fit_data.resolve_target_truth`)."""
        if not self.files:
            return False
        return self.data_truth is False or self._metadata("target").get(DATA_KEY) is True

    @property
    def names(self) -> tuple[str, ...]:
        """The fitted parameters, in order."""
        return tuple(self.parameters)

    def seed_of(self, sample: str) -> int:
        """The seed of ``sample`` (one of :data:`SAMPLES`): ``seeds[sample]``, or
        ``seed`` + 0 / 1 / 2 for nominal / target / varied (the seeds before per-sample
        seeds existed)."""
        if sample not in SAMPLES:
            raise ConfigError(f"seed_of({sample!r}): the samples are {list(SAMPLES)}.")
        return int(self.seeds.get(sample, self.seed + SAMPLES.index(sample)))

    def point(self, which: str) -> dict[str, float]:
        """The full parameter point of the ``"nominal"`` or ``"target"`` sample (set keys)."""
        out = dict(self.nominal)
        if which == "target":
            out.update(self.target)
        return out


@dataclass(frozen=True)
class CalibrationConfig:
    """The ``calibration:`` section: the targets of ``hepnnlr fit … --calibrate``.

    Each target is an independent sample at a known value of the calibrated parameter
    (the other parameters at ``samples.target``), with its own seed; the nominal and
    varied samples and the reweighters are those of the job (docs/fits.md).

    Attributes:
        points: The true values, ``[0.11, 0.125, …]``, or a number ``n`` of points at the
            centres of ``n`` equal parts of the parameter's range ``samples.parameters``
            (for [0.10, 0.17] and 5: 0.107, 0.121, 0.135, 0.149, 0.163), which keeps
            them off the range's edges.
        parameter: The calibrated parameter (default: the one fitted parameter; needed
            when the job fits several).
        target_seed: Target ``k`` is generated with ``target_seed + k`` (default:
            ``samples.seed + 1000``, apart from every seed of the job's own samples).
        target_events: Events per target (default ``samples.target_events``, else
            ``samples.events // 2``).
    """

    points: int | tuple[float, ...] = 5
    parameter: str | None = None
    target_seed: int | None = None
    target_events: int | None = None

    def __post_init__(self) -> None:
        points = self.points
        if isinstance(points, bool) or not isinstance(points, (int, tuple, list)):
            raise ConfigError(
                f"calibration.points={points!r}: give a number of points (>= 3) or a list "
                "of true values, e.g. [0.11, 0.125, 0.14, 0.155]."
            )
        if isinstance(points, int):
            if points < 3:
                raise ConfigError(
                    f"calibration.points={points}: a straight line through the targets "
                    "needs at least 3 points."
                )
        else:
            try:
                values = tuple(float(v) for v in points)
            except (TypeError, ValueError) as error:
                raise ConfigError(
                    f"calibration.points={list(points)!r} must be numbers."
                ) from error
            if len(set(values)) < 3:
                raise ConfigError(
                    f"calibration.points={list(values)}: need at least 3 distinct true values."
                )
            object.__setattr__(self, "points", values)
        for name in ("target_seed", "target_events"):
            value = getattr(self, name)
            low = 0 if name == "target_seed" else 2
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < low
            ):
                raise ConfigError(f"calibration.{name}={value!r} must be an integer >= {low}.")
        if self.parameter is not None and not isinstance(self.parameter, str):
            raise ConfigError(f"calibration.parameter={self.parameter!r} must be a name.")

    def resolve(self, samples: SampleConfig) -> tuple[str, tuple[float, ...]]:
        """The calibrated parameter and its true values, checked against ``samples``."""
        names = samples.names
        name = self.parameter
        if name is None:
            if len(names) != 1:
                raise ConfigError(
                    f"calibration.parameter is needed: the job fits {list(names)}; name "
                    "the one to calibrate."
                )
            name = names[0]
        if name not in names:
            raise ConfigError(
                f"calibration.parameter={name!r} is not fitted; the fitted parameters "
                f"(samples.parameters) are {list(names)}."
            )
        low, high = samples.parameters[name]
        if isinstance(self.points, int):
            n = self.points
            return name, tuple(low + (k + 0.5) * (high - low) / n for k in range(n))
        outside = [v for v in self.points if not low <= v <= high]
        if outside:
            raise ConfigError(
                f"calibration.points {outside} lie outside samples.parameters.{name} = "
                f"[{low}, {high}], the reweighter's training range; choose points inside."
            )
        return name, self.points

    def seed(self, samples: SampleConfig, k: int) -> int:
        """The seed of target ``k``."""
        base = samples.seed + 1000 if self.target_seed is None else self.target_seed
        return base + k

    def events(self, samples: SampleConfig) -> int:
        """Events per target."""
        return self.target_events or samples.target_events or samples.events // 2


def check_file_samples(
    samples: SampleConfig, description: Any, analysis: str, features_named: bool
) -> SampleConfig:
    """``samples`` of a job on the user's files, checked against its ``analysis``: the
    fitted θ are parameters with an ``expr`` (their per-event values in the varied
    files), and the nominal values default to the description's.

    Returns:
        ``samples`` with every fitted parameter's nominal value.
    """
    declared = {n: p for n, p in description.parameters.items() if p.expr is not None}
    unknown = sorted(set(samples.parameters) - set(declared))
    if unknown:
        raise ConfigError(
            f"samples.parameters {unknown}: the θ of your varied events are the parameters "
            f"with an expr of analysis {analysis!r}: {sorted(declared)}; declare them there "
            "(parameters: {name: {low, high, nominal, expr}})."
        )
    nominal = {n: declared[n].nominal for n in samples.names if declared[n].nominal is not None}
    nominal.update(samples.nominal)
    missing = [n for n in samples.names if n not in nominal]
    if missing:
        raise ConfigError(
            f"samples.nominal lacks {missing}: give their values or a nominal in the "
            "analysis's parameters."
        )
    for name in SAMPLES:  # a dataset's keys (files, metadata, weight), named if unknown
        Dataset.from_mapping(
            name,
            samples.dataset(name),
            where=f"samples.files.{name}",
            treename=description.treename,
        )
    if not features_named:
        raise ConfigError(
            "features: name the generator and simulation features of your files (the "
            "analysis's gen and reco features, e.g. generator: [m_jj]), or give the "
            "analysis's levels features or inputs."
        )
    return replace(samples, nominal=nominal)


def resolve_files(samples: dict[str, Any], base: Path) -> None:
    """The relative paths of a YAML ``samples.files`` section taken from ``base`` (the job
    file's folder), in place; URLs and absolute paths stay as they are."""
    files = samples.get("files")
    for name, listed in files.items() if isinstance(files, dict) else ():
        if isinstance(listed, dict) and "files" in listed:  # a description's dataset
            files[name] = {**listed, "files": _resolved(base, listed["files"])}
        else:
            files[name] = _resolved(base, listed)


def _resolved(base: Path, listed: Any) -> Any:
    if isinstance(listed, list):
        return [_from(base, f) for f in listed]
    if isinstance(listed, dict):
        return {_from(base, f): tree for f, tree in listed.items()}
    return listed


def _from(base: Path, file: Any) -> Any:
    if not isinstance(file, str) or "://" in file or Path(file).is_absolute():
        return file
    return str(base / file)


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
CalibrationSettings = CalibrationConfig
