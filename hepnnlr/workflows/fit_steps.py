"""One fit of a ``hepnnlr fit`` job: the reweighter, the DCTR or SRGN fit, its flags.

:func:`train_reweighter` trains ``w(x_G, θ)`` on the nominal training half and the varied sample;
:func:`dctr_step` fits Eq. 3 at generator level, :func:`srgn_step` Eq. 5 at detector level
(Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in the
Presence of Detector Effects", arXiv:2010.03569). Each returns a :class:`OneFit`: θ, the objective
along the way and the flags of :func:`hepnnlr.methods.fit_quality.flag_fit`. Optional per-event
weights make the same fit on a bootstrap replica (the target's, or the simulation's).
:mod:`hepnnlr.workflows.fit` runs repeats and replicas of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from hepnnlr.analysis import get
from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter
from hepnnlr.methods.dctr_fits import dctr_fit, dctr_scan, loss_covariance
from hepnnlr.methods.fit_quality import FitFlags, flag_fit, local_window
from hepnnlr.methods.minimum_events import check_minimum_events
from hepnnlr.methods.srgn import SRGNConfig, SRGNObjective, srgn_fit, srgn_scan
from hepnnlr.workflows.fit_config import FitJob, SampleConfig
from hepnnlr.workflows.fit_inputs import Inputs, Level

__all__ = [
    "OneFit",
    "anchor",
    "dctr_step",
    "fit_gen",
    "flags_of",
    "nominal_point",
    "srgn_step",
    "train_reweighter",
]


@dataclass
class OneFit:
    """One fit (a repeat or a replica): θ, the objective's curve and the flags."""

    theta: dict[str, float]
    objective: float
    curve: list[tuple[list[float], float]]
    flags: FitFlags
    grid_minimum: dict[str, float] = field(default_factory=dict)


def nominal_point(samples: SampleConfig) -> dict[str, float]:
    """The nominal value of every fitted parameter: ``samples.nominal``, else the
    default: μ = 0, σ = 1 of the Gaussian toy; a Pythia generator's from its analysis
    description's ``parameters`` (Monash 2013 for ``zjets``, 172.5 GeV for ``ttbar``)."""
    if samples.generator == "gaussian":
        defaults = {"mu": 0.0, "sigma": 1.0}
    elif samples.files:  # the job filled samples.nominal from its analysis
        defaults = samples.nominal
    else:
        parameters = get(samples.generator).parameters
        defaults = {name: parameter.nominal for name, parameter in parameters.items()}
    return {n: float(samples.nominal.get(n, defaults[n])) for n in samples.names}


def anchor(samples: SampleConfig) -> dict[str, float] | None:
    """The nominal point the reweighter is anchored at; ``None`` if outside the range."""
    point = nominal_point(samples)
    inside = all(low <= point[n] <= high for n, (low, high) in samples.parameters.items())
    return point if inside else None


def _grid(job: FitJob) -> dict[str, np.ndarray]:
    return {n: np.linspace(*job.bounds[n], job.fit.grid_points) for n in job.samples.names}


def _start(job: FitJob) -> list[float] | None:
    f, bounds = job.fit, job.bounds
    return [f.start.get(n, 0.5 * sum(bounds[n])) for n in job.samples.names] if f.start else None


def train_reweighter(
    job: FitJob,
    samples: dict[str, Level],
    inputs: Inputs,
    seed: int,
    nominal_weights: np.ndarray | None = None,
    varied_weights: np.ndarray | None = None,
):
    """The reweighter on the nominal training half and the varied sample (weights: a
    replica of the simulation; ``nominal_weights`` for the whole nominal sample)."""
    s = job.samples
    nominal, varied = samples["nominal"], samples["varied"]
    half = len(nominal) // 2
    check_minimum_events(
        "dctr",
        {
            "the nominal sample's training half (samples.nominal)": (half, len(nominal)),
            "the varied sample (samples.varied)": (len(varied), len(varied)),
        },
        fix="Generate more events (samples.events, samples.varied_events).",
    )
    return DCTRReweighter.train(
        inputs.events(nominal.gen.subset(slice(0, half)), "gen"),
        inputs.events(varied.gen, "gen", varied.theta, s.names),
        DCTRConfig(
            job.network.reweighter,
            replace(job.training.reweighter, seed=seed, progress=job.progress),
            members=job.training.reweighter_members,
            nominal_draws=job.training.nominal_draws,
            nominal_anchor=job.training.nominal_anchor,
        ),
        nominal_weights=None if nominal_weights is None else nominal_weights[:half],
        varied_weights=varied_weights,
        theta_range=s.parameters,
        nominal_theta=anchor(s),
    )


def fit_gen(samples: dict[str, Level], inputs: Inputs):
    nominal = samples["nominal"]
    return inputs.events(nominal.gen.subset(slice(len(nominal) // 2, None)), "gen")


def flags_of(
    job: FitJob, theta, points, values, errors, *, auc=False, constant=False, covariance=None
):
    u = job.uncertainty
    return flag_fit(
        theta,
        job.bounds,
        points=points,
        values=values,
        errors=errors,
        auc=auc,
        constant_at_minimum=constant,
        bound_margin=u.bound_margin,
        z=u.flag_sigma,
        covariance=covariance,
    )


def dctr_step(
    job: FitJob, samples, inputs, rw, nominal_weights: np.ndarray | None = None
) -> OneFit:
    """The DCTR fit (Eq. 3) of the target at generator level, and its loss scan
    (``nominal_weights``: per event of the whole nominal sample; the fit half's enter)."""
    f = job.fit
    data = inputs.events(samples["target"].gen, "gen")
    nominal = fit_gen(samples, inputs)
    half = len(samples["nominal"]) // 2
    weights = None if nominal_weights is None else nominal_weights[half:]
    scan = dctr_scan(
        rw, data, nominal, _grid(job), extrapolate=f.extrapolate, nominal_weights=weights
    )
    grid_minimum: dict[str, float] = {}
    if f.method == "grid":
        theta, objective = scan.fitted, scan.minimum_value
        grid_minimum = scan.minimum
    else:
        result = dctr_fit(
            rw,
            data,
            nominal,
            bounds=job.bounds,
            xtol=f.xtol,
            max_iterations=f.max_iterations,
            start=_start(job),
            extrapolate=f.extrapolate,
            nominal_weights=weights,
        )
        theta, objective = result.theta, result.loss
    points, losses = scan.points, scan.flat_values
    curve = [(p.tolist(), float(v)) for p, v in zip(points, losses, strict=True)]
    # the flat test on the nodes around the minimum with their covariance (the same
    # events enter every node): fit_quality.flat_reason
    window = local_window(points, losses)
    covariance = loss_covariance(
        rw,
        data,
        nominal,
        points[window],
        extrapolate=f.extrapolate,
        nominal_weights=weights,
    )
    flags = flags_of(job, theta, points[window], losses[window], None, covariance=covariance)
    return OneFit(theta, objective, curve, flags, grid_minimum)


def srgn_step(
    job: FitJob,
    samples,
    inputs,
    rw,
    seed: int,
    target_weights: np.ndarray | None = None,
    nominal_weights: np.ndarray | None = None,
) -> OneFit:
    """The SRGN fit (Eq. 5) at detector level; weights per target event and per event of
    the whole nominal sample (replicas)."""
    f = job.fit
    config = SRGNConfig(
        model=job.network.classifier,
        training=job.training.classifier,
        strategy=f.strategy,
        objective=f.objective,
        xtol=f.xtol,
        ftol=f.ftol,
        max_iterations=f.max_iterations,
        test_fraction=f.test_fraction,
        seed=seed,
    )
    nominal, target = samples["nominal"], samples["target"]
    # detector level: the events that pass its selection (all, unless unselected: zero)
    rows = nominal.reco_rows(np.arange(len(nominal) // 2, len(nominal)))
    target_rows = target.reco_rows()
    check_minimum_events(
        "srgn",
        {
            "the target at detector level": (len(target_rows), len(target)),
            "the nominal sample's fit half at detector level": (
                len(rows),
                len(nominal) - len(nominal) // 2,
            ),
        },
        fix="Generate more events (samples.events, samples.target_events) or loosen the "
        "detector-level selection.",
    )
    objective = SRGNObjective(
        rw,
        inputs.events(nominal.gen.subset(rows), "gen"),
        inputs.events(nominal.reco.subset(rows), "reco"),
        inputs.events(target.reco.subset(target_rows), "reco"),
        config,
        extrapolate=f.extrapolate,
        data_weights=None if target_weights is None else target_weights[target_rows],
        simulation_weights=None if nominal_weights is None else nominal_weights[rows],
    )
    grid_minimum: dict[str, float] = {}
    if f.method == "grid":
        scan = srgn_scan(objective, _grid(job))
        theta, value = scan.fitted, scan.minimum_value
        grid_minimum = scan.minimum
    else:
        result = srgn_fit(objective, bounds=job.bounds, start=_start(job))
        # the minimized value, as the grid's minimum above (the AUC with objective auc)
        theta, value = result.theta, result.value
    points = objective.points
    lowest = min(points, key=lambda p: p.auc)
    flags = flags_of(
        job,
        theta,
        np.array([p.theta for p in points]),
        np.array([p.auc for p in points]),
        np.array([p.error for p in points]),
        auc=True,
        constant=lowest.constant,
    )
    curve = [(list(p), float(v)) for p, v in objective.history]
    return OneFit(theta, value, curve, flags, grid_minimum)
