"""NanoEvents schema for hepnnlr event files.

The event files written by :mod:`hepnnlr.samples` follow NanoAOD naming (see
``docs/architecture.md``): a counter branch ``nX`` plus jagged branches ``X_pt``,
``X_eta``, ... for every object collection ``X``, and flat per-event branches such as
``weight`` or ``pass_gen``. :class:`HepnnlrSchema` turns each ``nX``/``X_*`` group into one
collection ``events.X`` of records with Lorentz-vector behaviour and keeps every other
branch as a flat field of ``events``.

Unlike :class:`coffea.nanoevents.NanoAODSchema` it does not require the CMS event-id
branches (``run``, ``luminosityBlock``, ``event``) and knows nothing about CMS
cross-references.

Example:
    >>> from coffea.nanoevents import NanoEventsFactory
    >>> events = NanoEventsFactory.from_root(
    ...     {"sim.root": "events"}, schemaclass=HepnnlrSchema, mode="eager"
    ... ).events()  # doctest: +SKIP
    >>> events.GenPart.px, events.RecoElectron.delta_phi(events.GenElectron)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from coffea.nanoevents import transforms
from coffea.nanoevents.schemas.base import BaseSchema, zip_forms

__all__ = ["HepnnlrSchema", "collection_mixin"]

_PT_ETA_PHI_E = frozenset({"pt", "eta", "phi", "E"})
_PT_ETA_PHI_M = frozenset({"pt", "eta", "phi", "mass"})


def collection_mixin(fields: set[str] | frozenset[str]) -> str | None:
    """Name of the coffea behaviour given to a collection with these record fields.

    Args:
        fields: Field names of the collection's records (branch names without ``X_``).

    Returns:
        ``"PtEtaPhiECandidate"`` for (pt, eta, phi, E) records that also carry a ``charge``
        (so that sums of candidates add their charges), ``"PtEtaPhiELorentzVector"`` for
        other (pt, eta, phi, E) records, the ``PtEtaPhiM`` equivalents for
        (pt, eta, phi, mass) records, and ``None`` (plain records) otherwise.
    """
    if _PT_ETA_PHI_E <= fields:
        return "PtEtaPhiECandidate" if "charge" in fields else "PtEtaPhiELorentzVector"
    if _PT_ETA_PHI_M <= fields:
        return "PtEtaPhiMCandidate" if "charge" in fields else "PtEtaPhiMLorentzVector"
    return None


def _is_jagged(form: dict[str, Any]) -> bool:
    return str(form.get("class", "")).startswith("ListOffsetArray")


class HepnnlrSchema(BaseSchema):
    """Zip every ``nX``/``X_*`` branch group of a hepnnlr tree into a collection ``X``.

    A collection is formed for every prefix ``X`` such that the tree has a counter branch
    ``nX`` and at least one jagged branch ``X_<field>``. Its offsets come from ``nX`` (as
    in NanoAOD), its record fields are the ``<field>`` suffixes, and its behaviour is
    chosen by :func:`collection_mixin`: the hepnnlr particle collections
    (``GenPart``, ``RecoPart``: pt, eta, phi, E, pdgId, charge) become
    ``PtEtaPhiECandidate`` and the electrons (pt, eta, phi, E) become
    ``PtEtaPhiELorentzVector``, so ``.px``, ``.mass``, ``.delta_phi`` and ``.delta_r``
    work. The counter branches themselves are dropped (``ak.num`` gives them back); all
    other branches are kept unchanged as flat fields.
    """

    __dask_capable__ = True

    def __init__(self, base_form: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(base_form, *args, **kwargs)
        fields, contents = self._build_collections(self._form["fields"], self._form["contents"])
        self._form["fields"] = fields
        self._form["contents"] = contents

    @staticmethod
    def _build_collections(
        field_names: list[str], input_contents: list[dict[str, Any]]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        branch_forms = dict(zip(field_names, input_contents, strict=True))
        collections = []
        for name in field_names:
            if not name.startswith("n") or len(name) < 2:
                continue
            prefix = name[1:]
            members = [
                k for k in field_names if k.startswith(prefix + "_") and _is_jagged(branch_forms[k])
            ]
            if members:
                collections.append((prefix, name, members))

        output: dict[str, dict[str, Any]] = {}
        consumed: set[str] = set()
        built: dict[str, dict[str, Any]] = {}
        for prefix, counter, members in collections:
            offsets = transforms.counts2offsets_form(branch_forms[counter])
            content = {k[len(prefix) + 1 :]: branch_forms[k] for k in members}
            built[prefix] = zip_forms(
                content,
                prefix,
                record_name=collection_mixin(frozenset(content)),
                offsets=offsets,
            )
            consumed.add(counter)
            consumed.update(members)

        # keep the file's branch order: a collection takes the place of its counter branch
        for name in field_names:
            if name in consumed:
                if name.startswith("n") and name[1:] in built:
                    output[name[1:]] = built[name[1:]]
                continue
            output[name] = branch_forms[name]
        return list(output), list(output.values())

    @classmethod
    def behavior(cls) -> dict[Any, Any]:
        """Behaviours of the collections: coffea base, vector and candidate methods."""
        from coffea.nanoevents.methods import base, candidate, vector

        behavior: dict[Any, Any] = {}
        behavior.update(base.behavior)
        behavior.update(vector.behavior)
        behavior.update(candidate.behavior)
        return behavior
