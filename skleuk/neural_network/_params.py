"""The CNN's parameter surface: routed parameters and the architecture.

The network is described by ``architecture=`` -- a preset name or a dict
``{"preset": "light", "filters": 32, ...}`` -- and by routed parameters
``model__<field>`` that override its fields (skorch's and SciKeras's
``<destination>__<arg>`` convention), so that a grid search can reach every
field: ``GridSearchCV(pipe, {"cnn__model__filters": [32, 64]})``.
Validation is :func:`resolve_architecture`'s.
"""

from __future__ import annotations

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


def architecture_spec(architecture, params, *, owner):
    """The preset and the field overrides of an estimator's network.

    Merges, in increasing priority: the preset, the fields of an
    ``architecture`` dict and the routed ``model__<field>`` parameters, then
    validates the result once with
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

    Returns
    -------
    preset : str
    overrides : dict
        Field values replacing the preset's (no None values).

    Raises
    ------
    ValueError
        Unknown preset, key or ``model__`` field, or invalid values.
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
    overrides = {k: v for k, v in fields.items() if v is not None}
    overrides.update(model)
    resolve_architecture(preset, **overrides)
    return preset, overrides
