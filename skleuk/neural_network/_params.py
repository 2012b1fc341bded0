"""The CNN's parameter surface: routed parameters and the architecture.

The network is described by ``architecture=`` -- a preset name or a dict
``{"preset": "light", "filters": 32, ...}`` -- and by routed parameters
``model__<field>`` that override its fields (skorch's and SciKeras's
``<destination>__<arg>`` convention), so that a grid search can reach every
field: ``GridSearchCV(pipe, {"cnn__model__filters": [32, 64]})``. The 12
flat architecture parameters of 0.1 (``filters=...``) still work, with a
FutureWarning, until 0.4. Validation is :func:`resolve_architecture`'s.
"""

from __future__ import annotations

import warnings

from ._architectures import ARCHITECTURE_PARAMS, resolve_architecture

__all__ = [
    "ROUTING_PREFIXES",
    "architecture_spec",
    "routed",
]

#: Prefixes of routed parameters: ``model__filters=32``,
#: ``optimizer__momentum=0.9``, ``fit__shuffle=False``,
#: ``predict__batch_size=256``.
ROUTING_PREFIXES = ("model__", "optimizer__", "fit__", "predict__")

#: The flat architecture parameters deprecated in 0.2 (removed in 0.4).
DEPRECATED_ARCHITECTURE_PARAMS = ARCHITECTURE_PARAMS


def routed(params, destination):
    """``{arg: value}`` of the parameters ``<destination>__<arg>`` (not nested).

    Parameters
    ----------
    params : dict
        An estimator's ``get_params(deep=False)``.
    destination : str
        ``"model"``, ``"optimizer"``, ``"fit"`` or ``"predict"``.

    Returns
    -------
    routed : dict
    """
    n = len(destination) + 2
    return {
        k[n:]: v
        for k, v in params.items()
        if k.startswith(destination + "__") and "__" not in k[n:]
    }


def _split_architecture(architecture):
    """``(preset, fields)`` of ``architecture=`` (a name or a dict)."""
    if isinstance(architecture, str):
        return architecture, {}
    fields = dict(architecture)
    preset = fields.pop("preset", "paper")
    unknown = sorted(set(fields) - set(ARCHITECTURE_PARAMS))
    if unknown:
        raise ValueError(
            f"architecture has unknown key(s) {unknown}; valid keys are "
            f"'preset' and {list(ARCHITECTURE_PARAMS)}."
        )
    return preset, fields


def _deprecation_message(flat, owner):
    names = ", ".join(sorted(flat))
    routed_names = ", ".join(f"model__{k}={flat[k]!r}" for k in sorted(flat))
    return (
        f"The parameter(s) {names} of {owner} are deprecated since 0.2 and will "
        f"be removed in 0.4: use {routed_names} instead (or put them in "
        "architecture={'preset': ..., ...}); in a pipeline, cnn__model__<name>."
    )


def architecture_spec(architecture, params, *, owner, warn=False):
    """The preset and the field overrides of an estimator's network.

    Merges, in increasing priority: the preset, the fields of an
    ``architecture`` dict, the deprecated flat parameters and the routed
    ``model__<field>`` parameters (a field given both flat and in one of the
    new spellings is an error), then validates the result once with
    :func:`~skleuk.neural_network._architectures.resolve_architecture`.

    Parameters
    ----------
    architecture : str or dict
        A preset name, or a dict of fields with an optional ``"preset"``
        (default ``"paper"``).
    params : dict
        The estimator's ``get_params(deep=False)``.
    owner : str
        The estimator's name, for messages.
    warn : bool, default=False
        Emit the FutureWarning of the deprecated flat parameters.

    Returns
    -------
    preset : str
    overrides : dict
        Field values replacing the preset's (no None values).

    Raises
    ------
    ValueError
        Unknown preset, key or ``model__`` field, invalid values, or a field
        given in two spellings.
    """
    preset, fields = _split_architecture(architecture)
    model = {k: v for k, v in routed(params, "model").items() if v is not None}
    unknown = sorted(set(model) - set(ARCHITECTURE_PARAMS))
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {['model__' + k for k in unknown]} for "
            f"{owner}: model__<name> sets a field of the architecture, one of "
            f"{list(ARCHITECTURE_PARAMS)}."
        )
    flat = {
        k: params[k]
        for k in DEPRECATED_ARCHITECTURE_PARAMS
        if params.get(k) is not None
    }
    for name in sorted(flat):
        other = (
            f"model__{name}" if name in model
            else f"architecture[{name!r}]" if name in fields
            else None
        )
        if other is not None:
            raise ValueError(
                f"{owner} got the architecture field {name!r} twice: as the "
                f"deprecated parameter {name}={flat[name]!r} and as {other}. "
                f"Remove {name}=."
            )
    if flat and warn:
        warnings.warn(_deprecation_message(flat, owner), FutureWarning, stacklevel=6)
    overrides = {k: v for k, v in fields.items() if v is not None}
    overrides.update(flat)
    overrides.update(model)
    resolve_architecture(preset, **overrides)
    return preset, overrides
