"""The samples and network inputs of a ``hepnnlr fit`` job (:mod:`hepnnlr.workflows.fit`).

* :func:`load_samples`: the nominal, target and varied samples of a job as raw
  (unstandardized) :class:`~hepnnlr.tensors.EventTensors` per level (``gen``, ``reco``).
  Gaussian samples are drawn in memory; Pythia samples are generated into ROOT files under
  ``output_dir/samples`` (:func:`hepnnlr.samples.make_zjets_sample`,
  :func:`hepnnlr.samples.make_ttbar_sample`) and read back through the job's analysis
  description (:attr:`~hepnnlr.workflows.fit_config.FitJob.description`: the ``zjets`` or
  ``ttbar`` one by default, or the user's) with
  :func:`hepnnlr.processors.analysis.run_analysis`. A ROOT file is
  reused when the job asked for exactly the same file before (``<file>.json`` records the
  generator arguments); ``samples.reuse: false`` regenerates it. Each sample has its own
  seed (:meth:`hepnnlr.workflows.fit_samples.SampleConfig.seed_of`): a new target seed
  regenerates the target alone. With ``samples.files`` the user's own files are read
  through the description instead, the varied events' θ from its parameters' ``expr``.
* Event features are dotted fields of the description's ``gen``/``reco`` columns (its
  levels' ``features``: ``jet1.multiplicity``, ``m_b1munu``); events failing a level's
  ``selection`` count as not selected there. Particle sets (Z → jets) are the
  constituents of the leading jets (``features.particle_jets``), one row per particle with
  the fields of :data:`PARTICLE_FIELDS`: those of the constituent records and derived ones
  (:data:`DERIVED_PARTICLE_FIELDS`).
* :class:`Inputs`: the networks' inputs, standardized with the nominal sample's statistics
  (:class:`~hepnnlr.tensors.Standardizer`; the 0/1 particle flags and the charge pass
  unchanged). Parameters θ stay in their own units: the DCTR reweighter scales them
  (:class:`hepnnlr.methods.theta.ThetaScale`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError, MissingBranchError
from hepnnlr.observables.substructure import STRANGE_HADRON_IDS
from hepnnlr.outputs import write_text
from hepnnlr.tensors.events import EventTensors, from_awkward
from hepnnlr.tensors.scaling import Standardizer

if TYPE_CHECKING:
    from hepnnlr.workflows.fit_config import FitJob

__all__ = [
    "CONSTITUENT_FIELDS",
    "DERIVED_PARTICLE_FIELDS",
    "PARTICLE_FIELDS",
    "PARTICLE_JETS",
    "SELECTED",
    "Inputs",
    "Level",
    "load_samples",
    "read_sample",
]

CONSTITUENT_FIELDS = ("pt", "pt_frac", "deta", "dphi", "pdgId", "charge")
"""Fields of the jet constituents of the ``zjets`` description's ``jet1``/``jet2``
(:func:`hepnnlr.analysis.builtin.zjets.jet_records`)."""
DERIVED_PARTICLE_FIELDS = ("log_pt", "is_photon", "is_neutral_hadron", "is_strange")
"""``log(pt)``; photon (|pdgId| = 22); neutral hadron (charge 0, not a photon); strange
hadron (:data:`hepnnlr.observables.substructure.STRANGE_HADRON_IDS`; at detector level the
neutral-hadron clusters)."""
PARTICLE_FIELDS = CONSTITUENT_FIELDS + DERIVED_PARTICLE_FIELDS
"""Every particle feature a fit job can name."""
PARTICLE_JETS = ("jet1", "jet2")
"""Jets whose constituents can form the particle set."""
_UNSCALED = ("charge", "is_photon", "is_neutral_hadron", "is_strange")
_STRANGE = np.asarray(sorted(STRANGE_HADRON_IDS), dtype=np.int64)


@dataclass
class Level:
    """Paired events of one sample: generator level ``gen``, detector level ``reco``.

    ``theta`` ``(n, k)`` holds the parameters of a varied sample (parameter units);
    ``selected``/``total``: events passing both levels out of those generated;
    ``reco_selected``: with ``features.unselected: zero``, the events that pass the
    detector-level selection (``None``: every event does). ``gen`` is None for a target
    that is real data (:mod:`hepnnlr.workflows.fit_data`): its events passing the
    detector level, at that level alone (``selected``: those, out of ``total`` read).
    """

    gen: EventTensors | None
    reco: EventTensors
    theta: np.ndarray | None = None
    selected: int = 0
    total: int = 0
    reused: tuple[str, ...] = ()
    reco_selected: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.reco if self.gen is None else self.gen)

    def reco_rows(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The event indices among ``rows`` (default all) that pass at detector level."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        return rows if self.reco_selected is None else rows[self.reco_selected[rows]]


# --- Gaussian ----------------------------------------------------------------------------


def _column(x: np.ndarray) -> EventTensors:
    return EventTensors(None, None, np.asarray(x, np.float32).reshape(-1, 1), (), ("x",))


def _gaussian_level(job: FitJob, point: dict[str, float], n: int, seed: int) -> Level:
    from hepnnlr.samples.gaussian import gaussian_sample

    gen, reco = gaussian_sample(n, point, epsilon=job.samples.epsilon, seed=seed)
    return Level(_column(gen), _column(reco), None, n, n)


def _gaussian_samples(job: FitJob, with_target: bool = True) -> dict[str, Level]:
    from hepnnlr.samples.gaussian import varied_gaussian_sample

    s = job.samples
    nominal, target = s.point("nominal"), s.point("target")
    out = {"nominal": _gaussian_level(job, nominal, s.events, s.seed_of("nominal"))}
    if with_target:
        n = s.target_events or s.events // 2
        out["target"] = _gaussian_level(job, target, n, s.seed_of("target"))
    n = s.varied_events or s.events // 2
    gen, theta = varied_gaussian_sample(n, s.parameters, seed=s.seed_of("varied"), fixed=nominal)
    out["varied"] = Level(_column(gen), _column(gen), theta, n, n)
    return out


# --- Pythia through the coffea processors -------------------------------------------------


def _field(record: ak.Array, path: str, where: str) -> ak.Array:
    value = record
    for part in path.split("."):
        fields = ak.fields(value)
        if part not in fields:
            raise MissingBranchError(
                f"feature {path!r}: {where} has no field {part!r} (fields there: "
                f"{sorted(fields)}); use one of those in features."
            )
        value = value[part]
    return value


def _particle_sets(
    level: ak.Array, jets: tuple[str, ...], names: tuple[str, ...], where: str
) -> ak.Array:
    """One list of particle records per event: the constituents of ``jets``, in order."""
    parts = []
    for slot in jets:
        jet = _field(level, slot, where)
        constituents = _field(jet, "constituents", where)
        parts.append(ak.fill_none(constituents, [], axis=0))
    constituents = parts[0] if len(parts) == 1 else ak.concatenate(parts, axis=1)
    present = ak.fields(constituents)
    missing = [f for f in CONSTITUENT_FIELDS if f not in present]
    if missing:
        raise MissingBranchError(
            f"{where}: the jet constituents lack {missing} (fields there: {sorted(present)}); "
            "produce the columns with the zjets description (its jet1/jet2 features)."
        )
    abs_id = np.abs(constituents.pdgId)
    counts = ak.num(abs_id)
    flat_id = ak.to_numpy(ak.flatten(abs_id)).astype(np.int64)
    derived = {
        "log_pt": np.log(constituents.pt),
        "is_photon": ak.values_astype(abs_id == 22, np.float32),
        "is_neutral_hadron": ak.values_astype(
            (constituents.charge == 0) & (abs_id != 22), np.float32
        ),
        "is_strange": ak.unflatten(np.isin(flat_id, _STRANGE).astype(np.float32), counts),
    }
    return ak.zip(
        {
            n: derived[n] if n in derived else ak.values_astype(constituents[n], np.float32)
            for n in names
        }
    )


SELECTED = "selected"
"""Generator-level event feature added with ``features.unselected: zero``: 1 where the
generator-level selection passed and every event feature is defined, else 0 (and the
features are 0)."""


def _columns_to_level(
    columns: ak.Array,
    job: FitJob,
    where: str,
    theta: tuple[str, ...] = (),
    levels: tuple[str, ...] = ("gen", "reco"),
) -> Level:
    """Network inputs of the events of one file, per level.

    ``features.unselected: drop``: the events where every event feature is defined at both
    levels (and both pass). ``zero``: every event; at generator level with zero features
    and a :data:`SELECTED` flag of 0 where its selection failed, at detector level marked
    in :attr:`Level.reco_selected` (real data has only the selected events, so the
    detector-level fit uses those). ``theta``: the parameters whose per-event values
    (the ``parameters`` column) become :attr:`Level.theta`. ``levels=("reco",)``: real
    data (no ``gen`` columns): the events that pass the detector level, whatever
    ``unselected`` says.
    """
    names_of = {"gen": job.generator_features, "reco": job.simulation_features}
    level_defined, event_columns = {}, {}
    for level in levels:
        cols, ok = {}, np.ones(len(columns), bool)
        for name in names_of[level]:
            value = _field(columns[level], name, f"the {level} records of {where}")
            if ak.fields(value):  # a record feature (zjets' jet1): the network needs numbers
                key = "generator" if level == "gen" else "simulation"
                raise ConfigError(
                    f"feature {name!r} of the {level} level ({where}) is a record with the "
                    f"fields {ak.fields(value)}, not a number; name its fields "
                    f"({name}.{ak.fields(value)[0]}) in features.{key} or in the "
                    f"analysis's {level}.inputs."
                )
            ok &= ~ak.to_numpy(ak.is_none(value, axis=0))
            cols[name] = value
        if f"pass_{level}" in ak.fields(columns):
            ok &= ak.to_numpy(columns[f"pass_{level}"])
        level_defined[level], event_columns[level] = ok, cols
    passing = np.logical_and.reduce([level_defined[level] for level in levels])
    keep_all = job.features.unselected == "zero" and "gen" in levels
    defined = np.ones(len(columns), bool) if keep_all else passing
    if not passing.any():
        raise EmptySelectionError(
            f"{where}: no event passes {'both levels' if len(levels) == 2 else levels[0]} "
            "with every feature defined "
            f"({' / '.join(str(list(names_of[level])) for level in levels)}); "
            "use more events or choose features the events have."
        )
    particles_of = {"gen": job.generator_particles, "reco": job.simulation_particles}
    tensors: dict[str, EventTensors | None] = {"gen": None}
    for level in levels:
        flag, particle_names = level_defined[level], particles_of[level]
        record: dict[str, Any] = {}
        if keep_all and level == "gen":
            record[SELECTED] = flag[defined].astype(np.float32)
        for n, c in event_columns[level].items():
            values = ak.to_numpy(ak.fill_none(c, 0.0)).astype(np.float64)
            record[n.replace(".", "/")] = np.where(flag, values, 0.0)[defined]
        if particle_names:
            record["particles"] = _particle_sets(
                columns[level][defined],
                job.features.particle_jets,
                particle_names,
                f"the {level} records of {where}",
            )
        t = from_awkward(
            ak.zip(record, depth_limit=1),
            particle_features=particle_names,
            global_features=tuple(
                record_name for record_name in record if record_name != "particles"
            ),
            where=f"{where} ({level})",
        )
        # the event features under their dotted names
        tensors[level] = EventTensors(
            t.particles,
            t.mask,
            t.globals,
            t.particle_features,
            tuple(n.replace("/", ".") for n in t.global_features),
        )
    values = None
    if theta:
        parameters = columns["parameters"]
        values = np.stack([ak.to_numpy(parameters[n])[defined] for n in theta], axis=1)
    return Level(
        tensors["gen"],
        tensors["reco"],
        values,
        int(passing.sum()),
        len(columns),
        reco_selected=level_defined["reco"] if keep_all else None,
    )


def _pythia_file(
    job: FitJob, name: str, point: dict[str, float], n: int, seed: int
) -> tuple[Path, bool]:
    """The ROOT file of one sample; ``True`` when an identical earlier one was reused."""
    s = job.samples
    path = job.output_dir / "samples" / f"{name}.root"
    stamp = path.with_suffix(".json")
    recipe = {
        "generator": s.generator,
        "point": point,
        "n_events": n,
        "seed": seed,
        "mpi": s.mpi if s.generator == "ttbar" else None,
    }
    if s.reuse and path.is_file() and stamp.is_file():
        try:
            same = json.loads(stamp.read_text()) == {**recipe, "size": path.stat().st_size}
        except json.JSONDecodeError:
            same = False
        if same:
            return path, True
    _generate(job, path, point, n, seed)
    write_text(stamp, json.dumps({**recipe, "size": path.stat().st_size}))
    return path, False


def _generate(job: FitJob, path: Path, point: dict[str, float], n: int, seed: int) -> None:
    """Write the sample of ``samples.generator`` at ``point`` through its entry of the
    generator table (:data:`hepnnlr.samples.generators.GENERATORS`)."""
    from hepnnlr.samples.generators import GENERATORS

    s = job.samples
    generator = GENERATORS[s.generator]
    generator.load()(
        path,
        n_events=n,
        seed=seed,
        workers=s.workers,
        progress=job.progress,
        **generator.at_point(point, mpi=s.mpi),
    )


def _process(job: FitJob, path: Path) -> ak.Array:
    """The columns of one file through the job's analysis description."""
    from hepnnlr.processors.analysis import run_analysis
    from hepnnlr.processors.chunks import collect_columns

    s = job.samples
    output = run_analysis(
        job.description,
        {path.stem: [str(path)]},
        executor=s.executor,
        workers=s.workers,
        chunksize=s.chunksize,
        progress=job.progress,
    )
    return collect_columns(output, path.stem)


def _read(job: FitJob, name: str, point: dict[str, float], n: int, seed: int) -> Level:
    path, reused = _pythia_file(job, name, point, n, seed)
    level = _columns_to_level(_process(job, path), job, str(path))
    level.reused = (path.name,) if reused else ()
    return level


def read_sample(job: FitJob, name: str, point: dict[str, float], n: int, seed: int) -> Level:
    """One sample of ``job`` at ``point`` (``n`` events, ``seed``), raw features: drawn
    (Gaussian) or generated into ``name.root`` (reused when identical) and processed."""
    if job.samples.generator == "gaussian":
        return _gaussian_level(job, point, n, seed)
    if job.samples.files:
        raise ConfigError(
            f"the sample {name!r} at {point} would be generated, but the job reads your "
            "files (samples.files); calibration targets need a generator."
        )
    return _read(job, name, point, n, seed)


def _file_samples(job: FitJob, with_target: bool = True) -> dict[str, Level]:
    """``samples.files`` through the job's analysis; the varied events' θ from its
    parameters' ``expr``."""
    from hepnnlr.processors.analysis import DATA_KEY, run_analysis
    from hepnnlr.processors.chunks import collect_columns

    s = job.samples
    # real data (fit_data): refused for a DCTR fit before any file is processed
    truth = job.target_truth if with_target else True
    out = {}
    for name in ("nominal", "target", "varied") if with_target else ("nominal", "varied"):
        varied = name == "varied"
        dataset = s.dataset(name)  # a description's dataset: files, metadata, weight
        if name == "target" and not truth:  # the processor builds the reco level alone
            dataset["metadata"] = {**(dataset.get("metadata") or {}), DATA_KEY: True}
        output = run_analysis(
            job.description,
            {name: dataset},
            parameters=varied,
            executor=s.executor,
            workers=s.workers,
            chunksize=s.chunksize,
            progress=job.progress,
        )
        columns = collect_columns(output, name)
        where = f"samples.files.{name}"
        levels = ("gen", "reco") if name != "target" or truth else ("reco",)
        out[name] = _columns_to_level(columns, job, where, s.names if varied else (), levels)
    return out


def _pythia_samples(job: FitJob, with_target: bool = True) -> dict[str, Level]:
    s = job.samples
    nominal, target = s.point("nominal"), s.point("target")
    out = {"nominal": _read(job, "nominal", nominal, s.events, s.seed_of("nominal"))}
    if with_target:
        n = s.target_events or s.events // 2
        out["target"] = _read(job, "target", target, n, s.seed_of("target"))
    varied_seed = s.seed_of("varied")
    rng = np.random.default_rng(varied_seed)  # the runs' θ
    n_varied = s.varied_events or s.events // 2
    parts, thetas = [], []
    for run in range(s.runs):
        drawn = {name: float(rng.uniform(*r)) for name, r in s.parameters.items()}
        n = n_varied // s.runs + (1 if run < n_varied % s.runs else 0)
        # run r: varied seed + 8 + r (samples.seed + 10 + r by default)
        level = _read(job, f"varied_{run:03d}", {**nominal, **drawn}, n, varied_seed + 8 + run)
        parts.append(level)
        thetas.append(np.tile([drawn[name] for name in s.names], (len(level), 1)))
    out["varied"] = Level(
        EventTensors.concatenate([p.gen for p in parts]),
        EventTensors.concatenate([p.reco for p in parts]),
        np.concatenate(thetas),
        sum(p.selected for p in parts),
        sum(p.total for p in parts),
        tuple(name for p in parts for name in p.reused),
        None
        if parts[0].reco_selected is None
        else np.concatenate([p.reco_selected for p in parts]),
    )
    return out


def _widen(t: EventTensors, slots: int) -> EventTensors:
    if t.particles is None or t.particles.shape[1] == slots:
        return t
    pad = slots - t.particles.shape[1]
    return EventTensors(
        np.pad(t.particles, ((0, 0), (0, pad), (0, 0))),
        np.pad(t.mask, ((0, 0), (0, pad))),
        t.globals,
        t.particle_features,
        t.global_features,
        t.theta,
        t.theta_names,
    )


def load_samples(
    job: FitJob, targets: dict[str, tuple[dict[str, float], int, int]] | None = None
) -> dict[str, Level]:
    """``{"nominal", "target", "varied"}`` of ``job`` (module docstring), raw features.

    ``targets`` (calibration): ``{name: (point, events, seed)}`` replace the job's
    target; each is a sample of its own under its name (Pythia: ``name.root``).
    Particle sets of every sample are padded to the same number of slots (the largest
    set of any sample; nothing is dropped).
    """
    gaussian = job.samples.generator == "gaussian"
    make = (
        _gaussian_samples if gaussian else _file_samples if job.samples.files else _pythia_samples
    )
    samples = make(job, with_target=targets is None)
    for name, (point, n, seed) in (targets or {}).items():
        if name in samples:
            raise ValueError(f"load_samples: target name {name!r} is a simulated sample's")
        samples[name] = read_sample(job, name, point, n, seed)
    for level in ("gen", "reco"):
        present = [v for v in samples.values() if getattr(v, level) is not None]
        widths = [
            getattr(v, level).particles.shape[1]
            for v in present
            if getattr(v, level).particles is not None
        ]
        if widths:
            for v in present:
                setattr(v, level, _widen(getattr(v, level), max(widths)))
    return samples


class Inputs:
    """Network inputs standardized with the nominal sample's statistics, per level.

    With a :data:`SELECTED` flag the statistics come from the selected events only (the
    others hold zeros), and the flag passes unchanged; the detector level from the events
    that pass there.
    """

    def __init__(self, nominal: Level) -> None:
        self.scalers = {}
        for level in ("gen", "reco"):
            reference = getattr(nominal, level)
            if level == "reco":
                reference = reference.subset(nominal.reco_rows())
            keep = tuple(f for f in reference.particle_features if f in _UNSCALED)
            weights = None
            if SELECTED in reference.global_features:
                keep += (SELECTED,)
                weights = reference.globals[:, reference.global_features.index(SELECTED)]
            self.scalers[level] = Standardizer.fit(reference, weights, keep=keep)

    def events(
        self,
        raw: EventTensors,
        level: str,
        theta: np.ndarray | None = None,
        names: tuple[str, ...] = (),
    ) -> EventTensors:
        """``raw`` standardized; carrying parameters ``theta`` ``(n, k)`` when given."""
        t = self.scalers[level].transform(raw)
        if theta is None:
            return t
        return EventTensors(
            t.particles,
            t.mask,
            t.globals,
            t.particle_features,
            t.global_features,
            np.asarray(theta, np.float32),
            names,
        )
