"""Four-momenta of particles in any representation, as flat Cartesian buffers.

:func:`flat_momenta` reads jagged particle records (events × particles) in whichever
coordinates a user's files give them and returns flat float64 ``px, py, pz, E`` with the
per-event counts and offsets, the input of FastJet and of hepnnlr's compiled kernels.
:func:`momentum4d` goes the other way: flat jet (or particle) buffers to ``var *
Momentum4D`` records with `vector <https://vector.readthedocs.io>`_'s awkward behaviour
(:mod:`hepnnlr.observables.vector_records`, importable from here).

Supported representations. A four-momentum is one azimuthal, one longitudinal and one
temporal coordinate system (vector's ``Momentum4D`` systems), each read from any of the
listed field names:

=============  =====================  ==============================================
axis           system                 field names, in order of precedence
=============  =====================  ==============================================
azimuthal      (px, py)               ``px``, ``momentum.x``, ``x`` / ``py``, ``momentum.y``, ``y``
azimuthal      (pt, phi)              ``pt``, ``rho`` / ``phi``
longitudinal   pz                     ``pz``, ``momentum.z``, ``z``
longitudinal   eta                    ``eta``
longitudinal   theta                  ``theta``
temporal       E                      ``E``, ``energy``, ``e``, ``t``
temporal       mass                   ``mass``, ``M``, ``m``, ``tau``
=============  =====================  ==============================================

which covers, among others:

- hepnnlr's own particles (``pt, eta, phi, E``);
- coffea NanoEvents collections (``events.PFCands``, ``events.GenPart``: ``pt, eta, phi,
  mass``), read from the stored fields, never through coffea's behaviours;
- plain Cartesian records (``px, py, pz, E``);
- coffea's ``EDM4HEPSchema``, which renames EDM4hep's ``momentum.[x,y,z]`` and ``energy``
  to ``px, py, pz`` and ``E`` (and drops ``E`` of ``ReconstructedParticle``, keeping
  ``mass``), and EDM4hep read by uproot directly: a nested ``momentum`` record with ``x, y,
  z`` (or fields literally named ``momentum.x`` …) and ``energy`` and/or ``mass``;
- vector records with any of vector's 4D momentum names (``vector.zip`` stores the generic
  names, e.g. ``rho, phi, eta, tau`` for ``pt, phi, eta, M``), and coffea ``LorentzVector``
  records (``x, y, z, t``).

The generic names ``x, y, z, t, rho, tau`` count only when no complete four-momentum can be
made from the momentum names (``px``, ``pt``, ``phi``, ``eta``, ``E``, ``mass``, …): a NanoAOD
secondary vertex (``SV``) has ``x, y, z`` as a position next to ``pt, eta, phi, mass``.

More than one representation: the one first in the table (per axis) gives the values, and
every other complete one present (``pt, phi`` next to ``px, py``; ``mass`` next to ``E``;
``energy`` next to ``E``) is checked against it, particle by particle, in Cartesian
coordinates: a difference beyond round-off (64 units in the last place of the least precise
field, relative to max(E, |p|)) raises :class:`~hepnnlr.errors.ConfigError` naming both sets
of fields. Fields that do not complete a system (a ``phi`` without ``pt``) are not read.

Conversions (vector's formulas): px = pT cos φ, py = pT sin φ, pz = pT sinh η or
pT / tan θ, and E = √(|p|² + m²) computed as ``hypot(hypot(pT, pz), m)`` (no overflow, no
cancellation); a negative mass is space-like as in vector, E = √max(|p|² − m², 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables import _kernels
from hepnnlr.observables.vector_records import _check_finite, _first_event, momentum4d

__all__ = ["FlatMomenta", "flat_momenta", "momentum4d"]  # momentum4d: vector_records

# Coordinate -> (momentum names, generic names), each in order of precedence.
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "px": (("px", "momentum.x"), ("x",)),
    "py": (("py", "momentum.y"), ("y",)),
    "pt": (("pt",), ("rho",)),
    "phi": (("phi",), ()),
    "pz": (("pz", "momentum.z"), ("z",)),
    "eta": (("eta",), ()),
    "theta": (("theta",), ()),
    "E": (("E", "energy", "e"), ("t",)),
    "mass": (("mass", "M", "m"), ("tau",)),
}
_SUPPORTED = (
    "one of each axis: azimuthal (px, py) or (pt, phi); longitudinal pz, eta or theta; "
    "temporal E or mass; with the aliases px: momentum.x, x; py: momentum.y, y; pt: rho; "
    "pz: momentum.z, z; E: energy, e, t; mass: M, m, tau (e.g. pt, eta, phi, mass as in "
    "NanoAOD; pt, eta, phi, E as in hepnnlr; px, py, pz, E; EDM4hep's momentum.{x,y,z} "
    "with energy or mass)"
)
# Round-off allowance of the consistency check, in units of the least precise field's
# machine epsilon, relative to max(E, |p|): each converted coordinate is at most four
# rounded operations on rounded inputs, and cos/sin and sinh amplify the rounding of φ and
# η by at most |φ| ≤ π and ≈ |η| (≲ 10 for particles in a detector): ≲ 20 ulp, 64 leaves a
# margin of 3 while a genuine disagreement (another particle, another mass hypothesis) is
# orders of magnitude larger.
_ULPS = 64.0

# A (coordinate, field name) pair; a system is one or two of them.
_Pair = tuple[str, str]


@dataclass(frozen=True, eq=False)
class FlatMomenta:
    """Four-momenta of all particles of a chunk, flat, in event order.

    Attributes:
        counts: Particles per event (int64, one per event; 0 for a ``None`` event).
        offsets: ``n_events + 1`` int64 offsets into the flat arrays (``offsets[0] == 0``):
            event ``i`` owns ``px[offsets[i]:offsets[i + 1]]``.
        px, py, pz, E: Cartesian four-momentum of every particle (float64, GeV, already
            scaled by the particle weight when one was given).
        fields: The fields the values were read from, e.g. ``("pt", "phi", "eta", "mass")``.
    """

    counts: np.ndarray
    offsets: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    E: np.ndarray
    fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.counts)
        if len(self.offsets) != n + 1 or (n and self.offsets[-1] != int(self.counts.sum())):
            raise ShapeMismatchError(
                f"FlatMomenta: {n} counts need {n + 1} offsets ending at their sum, got "
                f"{len(self.offsets)} offsets; build it with flat_momenta()."
            )
        total = int(self.offsets[-1])
        for name in ("px", "py", "pz", "E"):
            if len(getattr(self, name)) != total:
                raise ShapeMismatchError(
                    f"FlatMomenta: {name} has {len(getattr(self, name))} entries but the "
                    f"counts add up to {total} particles; build it with flat_momenta()."
                )

    @property
    def n_events(self) -> int:
        """Number of events."""
        return len(self.counts)

    @property
    def n_particles(self) -> int:
        """Number of particles in all events."""
        return int(self.offsets[-1])


def _flat_numbers(
    array: ak.Array, name: str, what: str, offsets: np.ndarray
) -> tuple[np.ndarray, np.dtype]:
    """One number per particle of a jagged field, as a fresh float64 buffer (and its dtype)."""
    flat = ak.flatten(array, axis=1)
    if flat.ndim != 1:
        raise ShapeMismatchError(
            f"{what}: field {name!r} has type {array.type}, not one number per particle; "
            "pass records whose coordinate fields are numbers (events × particles)."
        )
    missing = ak.to_numpy(ak.is_none(flat, axis=0)) if flat.layout.is_option else None
    if missing is not None and missing.any():
        k = int(np.argmax(missing))
        raise NonFiniteInputError(
            f"{what}: field {name!r} is missing (None) for {int(missing.sum())} particle(s), "
            f"first in event {_first_event(offsets, k)}; keep only complete particles, e.g. "
            f"particles[~ak.is_none(particles[{name!r}], axis=1)]."
        )
    raw = ak.to_numpy(ak.drop_none(flat) if missing is not None else flat)
    if not (np.issubdtype(raw.dtype, np.number) or raw.dtype == np.bool_):
        raise ShapeMismatchError(
            f"{what}: field {name!r} holds {raw.dtype}, not numbers; pass numeric fields."
        )
    values = np.array(raw, dtype=np.float64)  # always a copy: callers may scale it in place
    _check_finite(values, f"field {name!r}", what, offsets)
    return values, raw.dtype


def _field_paths(particles: ak.Array) -> dict[str, tuple[str, ...]]:
    """Display name -> path of every top-level field, plus ``momentum.x`` etc. when nested."""
    fields = ak.fields(particles)
    paths = {name: (name,) for name in fields}
    if "momentum" in fields:
        for sub in ak.fields(particles["momentum"]):
            paths.setdefault(f"momentum.{sub}", ("momentum", sub))
    return paths


def _systems(
    present: Callable[[str], list[str]],
) -> tuple[list[tuple[_Pair, ...]], list[tuple[_Pair, ...]], list[tuple[_Pair, ...]]]:
    """Every complete azimuthal, longitudinal and temporal system, in order of precedence."""
    azimuthal = [(("px", x), ("py", y)) for x in present("px") for y in present("py")]
    azimuthal += [(("pt", r), ("phi", p)) for r in present("pt") for p in present("phi")]
    longitudinal = [((c, n),) for c in ("pz", "eta", "theta") for n in present(c)]
    temporal = [((c, n),) for c in ("E", "mass") for n in present(c)]
    return azimuthal, longitudinal, temporal


def _resolve(
    paths: Mapping[str, tuple[str, ...]], what: str
) -> tuple[list[tuple[_Pair, ...]], ...]:
    for tier in (1, 2):

        def present(coordinate: str, tier: int = tier) -> list[str]:
            momentum, generic = _NAMES[coordinate]
            names = momentum + generic if tier == 2 else momentum
            return [n for n in names if n in paths]

        axes = _systems(present)
        if all(axes):
            return axes
    lacking = [
        axis
        for axis, found in zip(("azimuthal", "longitudinal", "temporal"), axes, strict=True)
        if not found
    ]
    raise MissingBranchError(
        f"{what}: no complete four-momentum among the fields {sorted(paths)} (no "
        f"{' and no '.join(lacking)} coordinates). Supported: {_SUPPORTED}. Rename or add "
        "the fields, e.g. ak.zip({'pt': ..., 'eta': ..., 'phi': ..., 'mass': ...})."
    )


def _energy_from_mass(p: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """E = √(|p|² + m|m|) (vector's convention), clipped at 0, without cancellation."""
    energy = np.hypot(p, mass)
    spacelike = mass < 0
    if spacelike.any():
        ps, ms = p[spacelike], -mass[spacelike]
        energy[spacelike] = np.sqrt(np.maximum((ps - ms) * (ps + ms), 0.0))
    return energy


def flat_momenta(
    particles: ak.Array,
    *,
    weight: str | ak.Array | None = None,
    what: str = "particles",
) -> FlatMomenta:
    """Flat Cartesian four-momenta of jagged particle records in any representation.

    See the module docstring for the supported field names. Everything runs on flat NumPy
    buffers (one ``ak.flatten`` per field read), with no Python loop over events.

    Args:
        particles: Events × particles records (``var * {...}``, e.g. ``events.PFCands``);
            ``None`` events count as empty.
        weight: Optional per-particle weight that scales the whole four-momentum (the PUPPI
            convention of Bertolini, Harris, Low and Tran, "Pileup Per Particle
            Identification", JHEP 10 (2014) 059, arXiv:1407.6013):
            the name of a field of ``particles`` (``"puppiWeight"``) or a jagged array with
            the same counts. Weights must be finite and non-negative; a weight of 0 leaves a
            zero four-vector in place (the particle is not removed).
        what: Name of the collection in error messages (``"PFCands"``).

    Returns:
        A :class:`FlatMomenta`.

    Raises:
        ShapeMismatchError: ``particles`` is not events × particles, or the weight array
            has other counts.
        MissingBranchError: no supported representation, or the weight field is missing.
        ConfigError: two representations that disagree beyond round-off, or a negative
            weight.
        NonFiniteInputError: a NaN, infinite or missing coordinate or weight (or a
            conversion that overflows), with the field and the first event.

    Example:
        >>> import awkward as ak
        >>> m = flat_momenta(ak.Array([[{"pt": 3.0, "eta": 0.0, "phi": 0.0, "mass": 4.0}]]))
        >>> float(m.px[0]), float(m.E[0])
        (3.0, 5.0)
    """
    if not isinstance(particles, ak.Array):
        particles = ak.Array(particles)
    if particles.ndim != 2:
        raise ShapeMismatchError(
            f"{what}: expected events × particles (2 dimensions, type 'N * var * {{...}}'), "
            f"got {particles.ndim} dimension(s), type {particles.type}. Pass one list of "
            "particles per event (ak.unflatten(particles, counts) for a flat list; "
            "ak.flatten(particles, axis=1) to merge a nested level)."
        )
    counts = ak.to_numpy(ak.fill_none(ak.num(particles, axis=1), 0)).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    paths = _field_paths(particles)
    if not paths:
        raise MissingBranchError(
            f"{what}: expected particle records with named fields, got type "
            f"{particles.type}. Supported: {_SUPPORTED}."
        )
    azimuthal, longitudinal, temporal = _resolve(paths, what)

    cache: dict[str, tuple[np.ndarray, np.dtype]] = {}

    def read(name: str) -> np.ndarray:
        if name not in cache:
            array = particles
            for key in paths[name]:
                array = array[key]
            cache[name] = _flat_numbers(array, name, what, offsets)
        return cache[name][0]

    def eps(*systems: tuple[_Pair, ...]) -> float:
        dtypes = [cache[n][1] for system in systems for _, n in system]
        return max(
            float(np.finfo(d).eps) if np.issubdtype(d, np.floating) else np.finfo(float).eps
            for d in dtypes
        )

    # Every array below is fresh (``read`` copies), so scaling in place touches no input.
    def xy(system: tuple[_Pair, ...]) -> tuple[np.ndarray, np.ndarray]:
        (first, a), (_, b) = system
        if first == "px":
            return read(a), read(b)
        pt, phi = read(a), read(b)
        x, y = np.cos(phi), np.sin(phi)
        x *= pt
        y *= pt
        return x, y

    def z(system: tuple[_Pair, ...], pt: np.ndarray) -> np.ndarray:
        ((coordinate, name),) = system
        if coordinate == "pz":
            return read(name)
        # sinh of a huge η overflows and θ = 0 divides by 0: reported by the finiteness
        # checks, with the field and the event, rather than by NumPy's RuntimeWarning
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if coordinate == "eta":
                out = np.sinh(read(name))
                out *= pt
                return out
            out = np.tan(read(name))
            return np.divide(pt, out, out=out)

    def t(system: tuple[_Pair, ...], p: np.ndarray) -> np.ndarray:
        ((coordinate, name),) = system
        return read(name) if coordinate == "E" else _energy_from_mass(p, read(name))

    def label(*systems: tuple[_Pair, ...]) -> str:
        return ", ".join(n for system in systems for _, n in system)

    primary = (azimuthal[0], longitudinal[0], temporal[0])
    fast = _fused(particles, paths, primary, (azimuthal, longitudinal, temporal), weight)
    if fast is not None:
        return FlatMomenta(
            counts=counts,
            offsets=offsets,
            px=fast[0],
            py=fast[1],
            pz=fast[2],
            E=fast[3],
            fields=tuple(n for system in primary for _, n in system),
        )
    px, py = xy(primary[0])
    pt = read(primary[0][0][1]) if primary[0][0][0] == "pt" else np.hypot(px, py)
    pz = z(primary[1], pt)
    alternatives = [(s, 0, ("px", "py")) for s in azimuthal[1:]]
    alternatives += [(s, 1, ("pz",)) for s in longitudinal[1:]]
    alternatives += [(s, 2, ("E",)) for s in temporal[1:]]
    p = np.hypot(pt, pz) if alternatives or primary[2][0][0] == "mass" else np.empty(0)
    energy = t(primary[2], p)
    along_beam = ~np.isfinite(pz) & (pt == 0)
    if along_beam.any():
        k = int(np.argmax(along_beam))
        raise NonFiniteInputError(
            f"{what}: {int(along_beam.sum())} particle(s) have pT = 0 and so no finite pz from "
            f"({label(*primary)}) (first in event {_first_event(offsets, k)}): a particle "
            "along the beam has no pseudorapidity (NanoAOD's GenPart stores its incoming "
            "partons with pT = 0 and |eta| ~ 2e4). Select the final state first, e.g. "
            "particles[particles.status == 1], or pass Cartesian px, py, pz."
        )
    for name, values in (("px", px), ("py", py), ("pz", pz), ("E", energy)):
        _check_finite(values, f"{name} computed from ({label(*primary)})", what, offsets)

    reference = {"px": px, "py": py, "pz": pz, "E": energy}
    scale = np.maximum(np.abs(energy), p) if alternatives else None
    for system, axis, names in alternatives:  # one at a time: no more than 2 extra buffers
        values = xy(system) if axis == 0 else (z(system, pt),) if axis == 1 else (t(system, p),)
        tolerance = _ULPS * eps(system, primary[axis]) * scale
        for name, value in zip(names, values, strict=True):
            bad = ~(np.abs(value - reference[name]) <= tolerance)
            if bad.any():
                k = int(np.argmax(bad))
                raise ConfigError(
                    f"{what}: the fields ({label(system)}) and ({label(*primary)}) give "
                    f"different four-momenta for {int(bad.sum())} particle(s): first in event "
                    f"{_first_event(offsets, k)}, {name} = {value[k]!r} from "
                    f"({label(system)}) but {reference[name][k]!r} from ({label(*primary)}), "
                    f"beyond round-off ({_ULPS:g} ulp of max(E, |p|)). Drop the fields that "
                    f"are wrong, e.g. ak.without_field(particles, {system[0][1]!r})."
                )

    flat_weight = _weights(particles, weight, counts, offsets, what)
    if flat_weight is not None:
        for values in (px, py, pz, energy):
            values *= flat_weight
    return FlatMomenta(
        counts=counts,
        offsets=offsets,
        px=px,
        py=py,
        pz=pz,
        E=energy,
        fields=tuple(n for system in primary for _, n in system),
    )


def _plain_floats(array: ak.Array) -> np.ndarray | None:
    """The flat float32/float64 buffer of a jagged field without a copy, or None when it is
    anything else (options, integers, nested lists: the NumPy path reads and names those)."""
    flat = ak.flatten(array, axis=1)
    layout = flat.layout
    if not isinstance(layout, ak.contents.NumpyArray) or layout.data.ndim != 1:
        return None
    values = ak.to_numpy(flat)
    return values if values.dtype in (np.float32, np.float64) else None


def _fused(
    particles: ak.Array,
    paths: Mapping[str, tuple[str, ...]],
    primary: tuple[tuple[_Pair, ...], ...],
    systems: tuple[list[tuple[_Pair, ...]], ...],
    weight: str | ak.Array | None,
) -> tuple[np.ndarray, ...] | None:
    """px, py, pz, E of the common cases in one compiled pass over the particles
    (``_kernels.polar_to_cartesian`` / ``scaled_cartesian``: read in place, convert, weight,
    check), or None to take the NumPy path: another representation, a second one to compare
    with, a weight array, a field that is not plain float32/float64, or any value the pass
    finds non-finite or negative weight (the NumPy path then names it, or returns what it
    always returned)."""
    if any(len(found) != 1 for found in systems) or not (
        weight is None or (isinstance(weight, str) and weight in ak.fields(particles))
    ):
        return None
    coordinates = tuple(c for system in primary for c, _ in system)
    if coordinates not in (("pt", "phi", "eta", "E"), ("pt", "phi", "eta", "mass"),
                           ("px", "py", "pz", "E")):  # fmt: skip
        return None
    buffers = []
    for _, name in (pair for system in primary for pair in system):
        array = particles
        for key in paths[name]:
            array = array[key]
        buffers.append(_plain_floats(array))
    weights = np.empty(0) if weight is None else _plain_floats(particles[weight])
    if weights is None or any(b is None for b in buffers):
        return None
    if coordinates[0] == "px":
        *four, ok = _kernels.scaled_cartesian(*buffers, weights)
    else:
        pt, phi, eta, temporal = buffers
        is_mass = coordinates[3] == "mass"
        *four, ok = _kernels.polar_to_cartesian(pt, phi, eta, temporal, is_mass, weights)
    return tuple(four) if ok else None


def _weights(
    particles: ak.Array,
    weight: str | ak.Array | None,
    counts: np.ndarray,
    offsets: np.ndarray,
    what: str,
) -> np.ndarray | None:
    """Flat per-particle weights (finite, ≥ 0), or None."""
    if weight is None:
        return None
    if isinstance(weight, str):
        if weight not in ak.fields(particles):
            raise MissingBranchError(
                f"{what}: no weight field {weight!r}; available fields: "
                f"{sorted(ak.fields(particles))}. Pass the name of one of them or a jagged "
                "array of weights."
            )
        values, name = particles[weight], f"weight field {weight!r}"
    else:
        values = weight if isinstance(weight, ak.Array) else ak.Array(weight)
        name = "weight"
        if values.ndim != 2:
            raise ShapeMismatchError(
                f"{what}: the weight array has type {values.type}; pass one weight per "
                "particle, events × particles, with the particles' counts (ak.unflatten("
                "flat_weights, counts) for a flat array)."
            )
        weight_counts = ak.to_numpy(ak.fill_none(ak.num(values, axis=1), 0))
        if len(weight_counts) != len(counts) or (weight_counts != counts).any():
            if len(weight_counts) != len(counts):
                where = f"{len(weight_counts)} events of weights for {len(counts)} events"
            else:
                i = int(np.argmax(weight_counts != counts))
                where = (
                    f"event {i} has {int(weight_counts[i])} weights for {int(counts[i])} particles"
                )
            raise ShapeMismatchError(
                f"{what}: the weight array does not match the particles ({where}); pass "
                "one weight per particle, in the same order."
            )
    flat, _ = _flat_numbers(values, name, what, offsets)
    negative = flat < 0
    if negative.any():
        k = int(np.argmax(negative))
        raise ConfigError(
            f"{what}: {name} has {int(negative.sum())} negative value(s), first "
            f"{flat[k]!r} in event {_first_event(offsets, k)}; a particle weight scales the "
            "four-momentum and must be ≥ 0. Pass non-negative weights."
        )
    return flat
