"""Jagged particle sets to padded arrays plus masks (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.tensors.checks import check_finite

__all__ = ["pad_particles"]


def pad_particles(
    particles: ak.Array,
    fields: Sequence[str],
    *,
    max_particles: int | None = None,
    dtype: np.dtype | type = np.float32,
    where: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Pad a jagged array of particle records to ``(events, slots, features)``.

    Events that are ``None`` (a level that failed its selection) become empty sets.

    Args:
        particles: Array of lists of records, one list per event.
        fields: Record fields to use as features, in this order.
        max_particles: Number of slots. ``None`` uses the largest multiplicity in the
            sample. A smaller value than some event needs is an error: hepnnlr never drops
            particles silently.
        dtype: Floating type of the output.
        where: Sample name used in error messages.

    Returns:
        ``(values, mask)``: ``values`` has zeros in padded slots; ``mask`` is ``True`` for
        real particles.
    """
    if not fields:
        raise ConfigError("pad_particles needs at least one particle feature in `fields`.")
    available = ak.fields(particles)
    for field in fields:
        if field not in available:
            raise MissingBranchError(
                f"particle feature {field!r} is not a field of the particle records"
                f"{' of ' + where if where else ''}; available fields: {sorted(available)}."
            )
    particles = ak.fill_none(particles, [], axis=0)
    counts = ak.to_numpy(ak.num(particles, axis=1))
    largest = int(counts.max()) if len(counts) else 0
    if max_particles is None:
        max_particles = max(largest, 1)
    elif max_particles < largest:
        raise ConfigError(
            f"max_particles={max_particles} but an event{' of ' + where if where else ''} has "
            f"{largest} particles; hepnnlr does not drop particles. Raise max_particles to at "
            f"least {largest}, or select particles explicitly before padding."
        )
    n_events = len(counts)
    mask = np.arange(max_particles)[None, :] < counts[:, None]
    values = np.zeros((n_events, max_particles, len(fields)), dtype=dtype)
    for k, field in enumerate(fields):
        flat = ak.to_numpy(ak.flatten(particles[field], axis=1)).astype(dtype, copy=False)
        check_finite(f"particle feature {field}", flat, where=where, counts=counts)
        values[..., k][mask] = flat
    return values, mask
