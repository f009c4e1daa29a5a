"""Top-quark mass observables of semi-muonic tt̄ events (Sec. III C of arXiv:2010.03569).

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Pure functions on awkward arrays, one entry per event, no Python loop over events.

Rules (arXiv:2010.03569, Sec. III C):

* jets: pT > 20 GeV; jets within ΔR < 0.4 of the muon are removed ("jets overlapping with
  the muon are removed"); a jet counts as b-tagged only if its ``btag`` flag is set *and*
  |η| < 2.5 ("they can only be b-tagged if |η| < 2.5"); every other jet is a light jet;
* events need a muon, ≥ 2 b-tagged jets and ≥ 2 light jets ("at least two b-tagged jets
  and at least two additional non b-tagged jets"); the muon is the leading entry of the
  muon collection; no pT cut is applied to it (arXiv:2010.03569 states none);
* b1 = the b-tagged jet closest in ΔR to the muon; b2 = the highest-pT b-tagged jet of
  the rest; j1, j2 = the two highest-pT light jets (footnote 4 of arXiv:2010.03569: no W-mass
  constraint on j1 j2);
* observables m(b1 μ ν), m(b2 μ ν), m(b1 j1 j2), m(b2 j1 j2); at detector level the
  neutrino has the missing transverse momentum as pT and its pz from the W-mass constraint
  (:func:`solve_neutrino_pz`); at generator level arXiv:2010.03569 uses the neutrino itself.

Neutrino pz: footnote 5 of arXiv:2010.03569, verbatim: "If there is no solution, the mass is set
to zero. If there are two real solutions, the one with the smaller |p_z| is selected."
hepnnlr implements exactly that (``no_solution="zero"``, the default): when the
discriminant of the W-mass quadratic is negative, m(b1 μ ν) and m(b2 μ ν) are 0 (the
hadronic masses are computed as usual) and ``nu_real`` is False. The common alternative,
taking the real part of the complex roots (discriminant set to zero), is available as
``no_solution="real_part"``.

Failing events come back as ``None`` (awkward option type); ``reason`` (never ``None``)
says why, with the codes of :data:`SELECTION_REASONS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError

__all__ = [
    "NeutrinoSolution",
    "SELECTION_REASONS",
    "TOP_MASS_FIELDS",
    "TopSelectionConfig",
    "W_MASS",
    "reconstruct_top",
    "select_top_objects",
    "solve_neutrino_pz",
]

W_MASS = 80.4
"""W-boson mass used in the neutrino constraint, GeV."""

SELECTION_REASONS: dict[int, str] = {
    0: "pass",
    1: "no_muon",
    2: "fewer_than_2_b",
    3: "fewer_than_2_light",
}
"""``reason`` codes of :func:`select_top_objects`: the first failed requirement."""

TOP_MASS_FIELDS = ("m_b1munu", "m_b2munu", "m_b1jj", "m_b2jj")
"""Names of the four observables m(b1 μ ν), m(b2 μ ν), m(b1 j1 j2), m(b2 j1 j2)."""

_NO_SOLUTION_RULES = ("zero", "real_part")


@dataclass(frozen=True)
class TopSelectionConfig:
    """Object selection of Sec. III C of arXiv:2010.03569.

    Attributes:
        jet_pt_min: jet pT threshold, GeV (arXiv:2010.03569: 20).
        btag_eta_max: b-tagging only for |η| below this (arXiv:2010.03569: 2.5).
        overlap_dr: jets within this ΔR of the muon are removed (arXiv:2010.03569: R = 0.4).
        w_mass: W mass of the neutrino constraint, GeV.
        no_solution: ``"zero"`` (arXiv:2010.03569, footnote 5: the ν masses are set to 0)
            or ``"real_part"`` (pz from the discriminant set to zero).
    """

    jet_pt_min: float = 20.0
    btag_eta_max: float = 2.5
    overlap_dr: float = 0.4
    w_mass: float = W_MASS
    no_solution: str = "zero"

    def __post_init__(self) -> None:
        for name in ("jet_pt_min", "btag_eta_max", "overlap_dr", "w_mass"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"TopSelectionConfig.{name} must be a number, got {value!r}.")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"TopSelectionConfig.{name} must be finite and >= 0, got {value!r}."
                )
        if self.w_mass == 0:
            raise ConfigError("TopSelectionConfig.w_mass must be > 0 GeV, got 0.")
        if self.no_solution not in _NO_SOLUTION_RULES:
            raise ConfigError(
                f"TopSelectionConfig.no_solution={self.no_solution!r} is not known; use "
                f"{_NO_SOLUTION_RULES[0]!r} (the rule of arXiv:2010.03569) or "
                f"{_NO_SOLUTION_RULES[1]!r}."
            )


class NeutrinoSolution(NamedTuple):
    """Roots of the W-mass constraint (arrays of one value per event)."""

    pz: ak.Array
    """The root with the smaller |pz|; the real part a·p_z^ℓ/A where there is none."""
    pz_other: ak.Array
    """The other root (equal to ``pz`` where there is no real solution)."""
    real: ak.Array
    """True where the discriminant is >= 0 (two real roots)."""


def _require(obj: ak.Array, names: tuple[str, ...], what: str) -> None:
    missing = [f for f in names if f not in ak.fields(obj)]
    if missing:
        raise MissingBranchError(
            f"{what} lack(s) the field(s) {missing}; they have {sorted(ak.fields(obj))}. "
            "Pass records with pt, eta, phi and E or mass (e.g. events.RecoMuon)."
        )


def _four(obj: ak.Array, what: str) -> tuple[ak.Array, ak.Array, ak.Array, ak.Array]:
    """(px, py, pz, E) in float64 from pt, eta, phi and E or mass records."""
    _require(obj, ("pt", "eta", "phi"), what)
    pt = ak.values_astype(obj.pt, np.float64)
    eta = ak.values_astype(obj.eta, np.float64)
    phi = ak.values_astype(obj.phi, np.float64)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    if "E" in ak.fields(obj):
        energy = ak.values_astype(obj.E, np.float64)
    elif "mass" in ak.fields(obj):
        mass = ak.values_astype(obj.mass, np.float64)
        energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    else:
        raise MissingBranchError(
            f"{what} need an 'E' or a 'mass' field; they have {sorted(ak.fields(obj))}."
        )
    return px, py, pz, energy


def _delta_r(eta1: ak.Array, phi1: ak.Array, eta2: ak.Array, phi2: ak.Array) -> ak.Array:
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)


def solve_neutrino_pz(
    lepton: ak.Array, met_px: ak.Array, met_py: ak.Array, mw: float = W_MASS
) -> NeutrinoSolution:
    """Neutrino pz from (ℓ + ν)² = m_W² with p_T^ν = the missing transverse momentum.

    With the lepton (E, p) of mass m_ℓ, a massless neutrino and
    a = (m_W² − m_ℓ²)/2 + p_x^ℓ p_x^ν + p_y^ℓ p_y^ν, A = E² − p_z^ℓ² (= p_T^ℓ² + m_ℓ²):

        A p_z² − 2 a p_z^ℓ p_z + (E² p_T^ν² − a²) = 0,
        p_z = (a p_z^ℓ ± E √(a² − A p_T^ν²)) / A.

    Both roots are returned, ``pz`` being the one with the smaller |pz| (footnote 5 of
    arXiv:2010.03569). Where a² < A p_T^ν² there is no real solution: ``real`` is False and both
    roots are the real part a p_z^ℓ / A (the discriminant set to zero); arXiv:2010.03569 then sets
    the masses built with the neutrino to zero, which :func:`reconstruct_top` does.

    Args:
        lepton: one record per event (pt, eta, phi and E or mass; may be option type).
        met_px, met_py: missing transverse momentum components, one per event.
        mw: W mass in GeV.

    Returns:
        :class:`NeutrinoSolution` of awkward arrays (``None`` where the lepton is).

    Example:
        >>> import awkward as ak
        >>> mu = ak.Array([{"pt": 40.0, "eta": 0.0, "phi": 0.0, "mass": 0.0}])
        >>> sol = solve_neutrino_pz(mu, ak.Array([-40.0]), ak.Array([0.0]))
        >>> bool(sol.real[0])
        True
    """
    px, py, pz, energy = _four(lepton, "the lepton records")
    met_px = ak.values_astype(met_px, np.float64)
    met_py = ak.values_astype(met_py, np.float64)
    m2 = energy**2 - px**2 - py**2 - pz**2
    a = 0.5 * (mw**2 - m2) + px * met_px + py * met_py
    big_a = energy**2 - pz**2
    disc = a**2 - big_a * (met_px**2 + met_py**2)
    real = disc >= 0
    root = energy * np.sqrt(np.maximum(disc, 0.0))
    centre = a * pz
    plus, minus = (centre + root) / big_a, (centre - root) / big_a
    smaller = ak.where(np.abs(plus) <= np.abs(minus), plus, minus)
    other = ak.where(np.abs(plus) <= np.abs(minus), minus, plus)
    return NeutrinoSolution(pz=smaller, pz_other=other, real=real)


def select_top_objects(
    jets: ak.Array, muons: ak.Array, config: TopSelectionConfig | None = None
) -> ak.Array:
    """Select the muon and assign b1, b2, j1, j2 (rules in the module docstring).

    Args:
        jets: jagged jet records (pt, eta, phi, mass or E, btag), any order.
        muons: jagged muon records (pt, eta, phi, E or mass); the leading one is used.
        config: selection; ``TopSelectionConfig()`` if not given.

    Returns:
        One record per event: ``reason`` (int8, :data:`SELECTION_REASONS`) and the option
        records ``muon``, ``b1``, ``b2``, ``j1``, ``j2`` (``None`` unless reason is 0),
        plus ``n_b`` and ``n_light`` (after overlap removal and the pT cut; 0 without a
        muon).
    """
    config = TopSelectionConfig() if config is None else config
    _require(jets, ("pt", "eta", "phi", "btag"), "the jet records")
    _require(muons, ("pt", "eta", "phi"), "the muon records")
    jets = jets[ak.argsort(jets.pt, axis=1, ascending=False, stable=True)]
    muon = muons[ak.argsort(muons.pt, axis=1, ascending=False, stable=True)]
    muon = ak.firsts(muon, axis=1)
    has_muon = ak.to_numpy(~ak.is_none(muon)).astype(bool)

    # without a muon the event fails anyway: any placeholder direction will do
    dr = _delta_r(jets.eta, jets.phi, ak.fill_none(muon.eta, 0.0), ak.fill_none(muon.phi, 0.0))
    keep = (jets.pt > config.jet_pt_min) & (dr >= config.overlap_dr)
    is_b = ak.values_astype(jets.btag, bool) & (np.abs(jets.eta) < config.btag_eta_max)
    bjets, bdr = jets[keep & is_b], dr[keep & is_b]
    light = jets[keep & ~is_b]
    n_b = ak.to_numpy(ak.num(bjets, axis=1))
    n_light = ak.to_numpy(ak.num(light, axis=1))
    reason = np.where(~has_muon, 1, np.where(n_b < 2, 2, np.where(n_light < 2, 3, 0))).astype(
        np.int8
    )
    passed = reason == 0

    # b1: closest to the muon; b2: leading of the others (bjets are pT-ordered)
    i1 = ak.fill_none(ak.argmin(bdr, axis=1), 0)  # one index per event
    local = ak.local_index(bdr, axis=1)
    first_b1 = ak.argsort(ak.where(local == i1, -1, local), axis=1, stable=True)
    ordered = ak.pad_none(bjets[first_b1], 2, axis=1)
    b1, b2 = ordered[:, 0], ordered[:, 1]
    safe_light = ak.pad_none(light, 2, axis=1)
    out = ak.zip(
        {
            "muon": ak.mask(muon, passed),
            "b1": ak.mask(b1, passed),
            "b2": ak.mask(b2, passed),
            "j1": ak.mask(safe_light[:, 0], passed),
            "j2": ak.mask(safe_light[:, 1], passed),
        },
        depth_limit=1,
    )
    return ak.with_field(
        ak.with_field(ak.with_field(out, reason, "reason"), n_b * has_muon, "n_b"),
        n_light * has_muon,
        "n_light",
    )


def _mass(*vectors: tuple[ak.Array, ak.Array, ak.Array, ak.Array]) -> ak.Array:
    px = sum(v[0] for v in vectors)
    py = sum(v[1] for v in vectors)
    pz = sum(v[2] for v in vectors)
    energy = sum(v[3] for v in vectors)
    # m² < 0 only by rounding for a sum of physical four-vectors
    return np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0))


def reconstruct_top(
    jets: ak.Array,
    muons: ak.Array,
    met_px: ak.Array | None = None,
    met_py: ak.Array | None = None,
    *,
    neutrino: ak.Array | None = None,
    config: TopSelectionConfig | None = None,
) -> ak.Array:
    """The four top-mass observables of Sec. III C of arXiv:2010.03569, per event.

    Either the missing transverse momentum (``met_px``, ``met_py``: the neutrino pz is
    solved with :func:`solve_neutrino_pz`, detector level) or the ``neutrino`` itself
    (one record per event with pt, eta, phi, E: generator level, as in arXiv:2010.03569) is
    given.

    Args:
        jets: jagged jets (pt, eta, phi, mass or E, btag).
        muons: jagged muons (pt, eta, phi, E or mass).
        met_px, met_py: missing transverse momentum, one per event.
        neutrino: the true neutrino instead of the missing momentum.
        config: selection and neutrino rule; ``TopSelectionConfig()`` if not given.

    Returns:
        One record per event: ``reason`` (int8, never None), ``nu_real`` (bool: a real neutrino
        solution exists; always True with ``neutrino``), ``nu_pz`` and the four masses of
        :data:`TOP_MASS_FIELDS` in GeV. ``nu_real``, ``nu_pz`` and the masses are ``None`` for
        events that fail the selection. With ``no_solution="zero"`` the two masses with the neutrino
        are 0 where ``nu_real`` is False (arXiv:2010.03569, footnote 5).

    Example:
        >>> out = reconstruct_top(events.RecoJet, events.RecoMuon,
        ...     events.MET_pt * np.cos(events.MET_phi),
        ...     events.MET_pt * np.sin(events.MET_phi))  # doctest: +SKIP
    """
    config = TopSelectionConfig() if config is None else config
    if (neutrino is None) == (met_px is None or met_py is None):
        raise ConfigError(
            "reconstruct_top needs either met_px and met_py (detector level) or "
            "neutrino= (generator level), not both and not neither."
        )
    objects = select_top_objects(jets, muons, config)
    mu = _four(objects.muon, "the muon records")
    if neutrino is not None:
        if neutrino.ndim > 1:
            neutrino = ak.firsts(neutrino, axis=1)
        nu = _four(neutrino, "the neutrino records")
        nu = tuple(ak.mask(c, ~ak.is_none(objects.muon)) for c in nu)
        nu_real = ak.mask(ak.ones_like(nu[0], dtype=bool), ~ak.is_none(objects.muon))
        nu_pz = nu[2]
    else:
        solution = solve_neutrino_pz(objects.muon, met_px, met_py, config.w_mass)
        mpx = ak.values_astype(met_px, np.float64)
        mpy = ak.values_astype(met_py, np.float64)
        nu_pz = solution.pz
        nu = (mpx, mpy, nu_pz, np.sqrt(mpx**2 + mpy**2 + nu_pz**2))
        nu_real = solution.real
    b1, b2 = _four(objects.b1, "b1"), _four(objects.b2, "b2")
    j1, j2 = _four(objects.j1, "j1"), _four(objects.j2, "j2")
    m_b1munu = _mass(b1, mu, nu)
    m_b2munu = _mass(b2, mu, nu)
    if config.no_solution == "zero":
        m_b1munu = ak.where(nu_real, m_b1munu, 0.0)
        m_b2munu = ak.where(nu_real, m_b2munu, 0.0)
    return ak.zip(
        {
            "reason": objects.reason,
            "nu_real": nu_real,
            "nu_pz": nu_pz,
            "m_b1munu": m_b1munu,
            "m_b2munu": m_b2munu,
            "m_b1jj": _mass(b1, j1, j2),
            "m_b2jj": _mass(b2, j1, j2),
        },
        depth_limit=1,
    )
