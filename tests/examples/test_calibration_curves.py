"""``examples/calibration_curves.py``'s ``--targets`` and ``--tag``: explicit true values
for the tt̄ curve inside a widened ``--parameter-range``, kept under a name of their own."""

from __future__ import annotations

import pytest
from example_modules import example_module

from hepnnlr.errors import ConfigError


@pytest.fixture(scope="module")
def curves():
    return example_module("calibration_curves")


def test_targets_replace_the_points_inside_the_widened_range(curves, tmp_path):
    from hepnnlr.workflows.fit_calibration import calibration_targets

    argv = ["ttbar", "--parameter-range", "167", "183", "--targets", "169", "175", "181"]
    args = curves._arguments([*argv, "--target-events", "4000", "--output", str(tmp_path)])
    job = curves._job(args)
    parameter, targets = calibration_targets(job)
    assert parameter == "top_mass"
    assert job.samples.parameters["top_mass"] == (167.0, 183.0)
    # in the given order, each with its own seed (target_seed + k) and the asked size
    assert [(p["top_mass"], n) for p, n, _ in targets.values()] == [
        (169.0, 4000),
        (175.0, 4000),
        (181.0, 4000),
    ]
    assert len({seed for _, _, seed in targets.values()}) == 3
    # never the name of the config's own curve or of the range run with its 5 points
    name = curves._name(args, "calibration_ttbar_mt")
    assert name == "calibration_ttbar_mt_range167-183_targets169-181"
    tagged = curves._arguments([*argv, "--tag", "nominal150k"])
    assert curves._name(tagged, "calibration_ttbar_mt") == f"{name}_nominal150k"
    # and a title of its own in docs/results.md
    assert curves.titled(tagged, "tt̄ m_t (SRGN)", job) == (
        "tt̄ m_t (SRGN), varied top_mass on [167, 183], targets at 169, 175, 181 (nominal150k)"
    )
    # another objective: a curve of its own, and the job fits with it
    excess = curves._arguments([*argv, "--srgn-objective", "auc_excess", "--tag", "nominal150k"])
    assert curves._name(excess, "calibration_ttbar_mt") == f"{name}_auc-excess_nominal150k"
    assert curves._job(excess).fit.objective == "auc_excess" and job.fit.objective == "auc"


def test_reweighter_and_seed_overrides_reach_the_job(curves, tmp_path):
    # the config trains 4 networks with EMA from samples.seed (21); the flags rerun the
    # single network of the curves recorded before, or other trainings on the same samples
    base = ["ttbar", "--output", str(tmp_path)]
    job = curves._job(curves._arguments(base))
    assert (job.training.reweighter_members, job.training.reweighter.ema) == (4, True)
    assert job.training_seed == 21
    old = ["--reweighter-members", "1", "--no-reweighter-ema", "--training-seed", "31"]
    other = curves._job(curves._arguments([*base, *old]))
    assert (other.training.reweighter_members, other.training.reweighter.ema) == (1, False)
    assert other.training_seed == 31 and other.samples == job.samples
    # the scale line names the averaging only where there is one
    assert curves._members_and_ema(job) == ", 4 networks averaged in log w, EMA of its weights"
    assert curves._members_and_ema(other) == ""


def test_a_target_outside_the_range_points_with_targets_or_a_path_as_tag_are_refused(curves):
    # 181 lies beyond the config's [170, 180]: the reweighter never saw it
    with pytest.raises(ConfigError, match="outside samples.parameters.top_mass"):
        curves._job(curves._arguments(["ttbar", "--targets", "171", "175", "181"]))
    with pytest.raises(SystemExit, match="--targets and --points"):
        curves._job(curves._arguments(["ttbar", "--points", "3", "--targets", "171", "175"]))
    with pytest.raises(SystemExit, match="--tag"):
        curves._name(curves._arguments(["ttbar", "--tag", "../x"]), "calibration_ttbar_mt")
