"""Progress bars: the one set-up of every tqdm bar skleuk shows.

:func:`progress_bar` makes a bar over folds, fits, images or smears (or
None when progress is off); :func:`epoch_progress` shows one bar per epoch
while a Keras (SciKeras) final step fits. Both write to stderr and refresh
rarely when stderr is a log file rather than a terminal.
"""

from __future__ import annotations

import contextlib
import sys


def _bar_kwargs():
    """tqdm settings: stderr; rare refreshes when it is a log file, not a TTY."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return {"file": sys.stderr, "mininterval": 0.1 if tty else 10.0}


def progress_bar(total, desc, unit, *, enabled=True, **kwargs):
    """A tqdm bar on stderr, or None when ``enabled`` is false.

    ``kwargs`` go to :class:`tqdm.auto.tqdm` (``leave``, ``position`` ...).
    The caller updates and closes it.
    """
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, **{**_bar_kwargs(), **kwargs})


def final_step(estimator):
    """The last step of a pipeline (nested pipelines followed), else the estimator."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return final_step(steps[-1][1])
    return estimator


def _is_scikeras(estimator):
    # Looked up only when already imported: SciKeras imports TensorFlow, and
    # an instance of its wrapper implies it is imported.
    wrappers = sys.modules.get("scikeras.wrappers")
    base = getattr(wrappers, "BaseWrapper", None)
    return base is not None and isinstance(estimator, base)


@contextlib.contextmanager
def epoch_progress(estimator, desc, *, enabled=True):
    """Show a bar per epoch while ``estimator`` fits, if it ends in a Keras step.

    The bar is a Keras callback added to the final step's ``fit__callbacks``
    (SciKeras's routing of ``model.fit`` arguments) for the duration of the
    ``with`` block only, so the fitted estimator stays picklable. Other
    estimators fit without a bar.
    """
    final = final_step(estimator)
    if not enabled or not _is_scikeras(final):
        yield
        return
    from keras.callbacks import Callback

    class _EpochBar(Callback):
        def on_train_begin(self, logs=None):
            self.bar = progress_bar(self.params.get("epochs"), desc, "epoch",
                                    leave=False, position=1)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            post = {k: f"{v:.3f}" for k, v in logs.items()
                    if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    had = "fit__callbacks" in vars(final)
    old = getattr(final, "fit__callbacks", None)
    if old is None:
        cbs = []
    else:
        cbs = list(old) if isinstance(old, (list, tuple)) else [old]
    final.set_params(fit__callbacks=[*cbs, _EpochBar()])
    try:
        yield
    finally:
        if had:
            final.set_params(fit__callbacks=old)
        else:
            vars(final).pop("fit__callbacks", None)
