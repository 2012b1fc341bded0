"""The optimizer and learning-rate schedule of one CNN fit."""

from __future__ import annotations

from numbers import Real

import keras

__all__ = ["learning_rate_for", "make_optimizer"]


def _default_learning_rate(opt):
    """The optimizer's own default rate (Adam 0.001, SGD 0.01, ...), or None."""
    if isinstance(opt, keras.optimizers.Optimizer):
        return float(opt.get_config()["learning_rate"])
    if isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
        return float(opt().get_config()["learning_rate"])
    return None


def learning_rate_for(
    opt, lr, *, n_samples, lr_schedule, batch_size, epochs, warmup
):
    """The learning rate (a float or a Keras schedule) of one fit.

    Parameters
    ----------
    opt : keras.optimizers.Optimizer or its class
        The optimizer (its default rate is used when ``lr`` is None).
    lr : float or None
        The base learning rate.
    n_samples : int
        Training images of the fit (the schedule counts optimizer steps).
    lr_schedule : {"constant", "cosine"}
        The schedule; see ``LightweightCNNClassifier``.
    batch_size : int or None
        Mini-batch size (None: Keras's 32).
    epochs : int
        Epochs of the fit.
    warmup : float
        Share of the steps used for the linear warm-up of ``"cosine"``.

    Returns
    -------
    lr : float, keras.optimizers.schedules.LearningRateSchedule or None
    """
    if lr is None:
        lr = _default_learning_rate(opt)
    if lr_schedule == "constant" or lr is None:
        return lr
    batch = batch_size or 32
    total = max(1, -(-int(n_samples) // batch) * int(epochs))
    warm = int(round(warmup * total))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warm else float(lr),
        decay_steps=max(1, total - warm),
        alpha=0.0,
        warmup_target=float(lr) if warm else None,
        warmup_steps=warm,
    )


def _optimizer_class(opt):
    if not isinstance(opt, str):
        return opt
    try:
        return type(keras.optimizers.get(opt))
    except ValueError:
        raise ValueError(
            f"Unknown optimizer {opt!r}; use 'adam', 'sgd' (or another Keras "
            "optimizer name, or a keras.optimizers.Optimizer)."
        ) from None


def make_optimizer(
    optimizer, routed, *, learning_rate=None, weight_decay=None, n_samples=None,
    lr_schedule="constant", batch_size=None, epochs=1, warmup=0.0,
):
    """A new Keras optimizer for one fit.

    Parameters
    ----------
    optimizer : str, keras.optimizers.Optimizer or its class
        A Keras optimizer name, an instance (copied through its config, so
        fits never share optimizer state) or a class.
    routed : dict
        Extra constructor arguments (the ``optimizer__<arg>`` parameters).
    learning_rate : float or None, default=None
        Base rate when ``routed`` has no ``learning_rate``; None: the
        optimizer's default.
    weight_decay : float or None, default=None
        Decoupled weight decay.
    n_samples, lr_schedule, batch_size, epochs, warmup
        See :func:`learning_rate_for`.

    Returns
    -------
    optimizer : keras.optimizers.Optimizer
    """
    routed = dict(routed)
    if weight_decay is not None:
        routed["weight_decay"] = float(weight_decay)
    opt = _optimizer_class(optimizer)
    lr = routed.pop("learning_rate", learning_rate)
    if lr is None or isinstance(lr, Real):
        lr = learning_rate_for(
            opt, lr, n_samples=n_samples or 1, lr_schedule=lr_schedule,
            batch_size=batch_size, epochs=epochs, warmup=warmup,
        )
    if lr is not None:
        routed["learning_rate"] = lr
    try:
        if isinstance(opt, keras.optimizers.Optimizer):
            config = opt.get_config()
            config.update(routed)
            return type(opt).from_config(config)
        if isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
            return opt(**routed)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Invalid optimizer arguments {sorted(routed)} for "
            f"{getattr(opt, '__name__', type(opt).__name__)}: {exc}"
        ) from None
    raise ValueError(
        "optimizer must be a Keras optimizer name ('adam', 'sgd'), a "
        f"keras.optimizers.Optimizer or a subclass of it; got {opt!r}."
    )
