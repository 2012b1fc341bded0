"""``skleuk predict``: classify image files with a saved model."""

from __future__ import annotations

import sys

from ._common import CLIError, _err, _import_tensorflow
from ._data import _expand_inputs
from ._model import _load_for_command
from ._output import _Writer


def _predict_batch(model, paths):
    """(pred_index, prob, probas) per path; raises ImageReadError on bad files."""
    import numpy as np

    est = model["estimator"]
    if model["input"] == "paths":
        X = np.asarray(paths, dtype=object)
    else:
        from ..datasets import read_images

        size = model["extra"].get("image_size")
        X = read_images(paths, size=size)
    classes = list(model["classes"])
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=float)
        est_classes = list(getattr(est, "classes_", classes))
        idx = proba.argmax(axis=1)
        if hasattr(est, "best_threshold_") or hasattr(est, "threshold"):
            # A tuned operating point (--min-sensitivity): predict() decides.
            idx = np.array([est_classes.index(lab) for lab in est.predict(X)])
        pred = [classes.index(est_classes[i]) for i in idx]
        return [(p, float(proba[j, i]), proba[j]) for j, (p, i)
                in enumerate(zip(pred, idx, strict=True))]
    labels = est.predict(X)
    return [(classes.index(lab), None, None) for lab in labels]


def _set_tta(estimator, tta, path):
    """``--tta``/``--no-tta``: set every network's ``tta`` in the estimator."""
    keys = [k for k, v in estimator.get_params().items()
            if (k == "tta" or k.endswith("__tta")) and isinstance(v, bool)]
    if not keys:
        raise CLIError(
            f"--{'' if tta else 'no-'}tta: the model in {path} has no network "
            "with test-time augmentation (no 'tta' parameter).", code=2)
    estimator.set_params(**dict.fromkeys(keys, tta))


def cmd_predict(args):
    """``skleuk predict``: classify images with a saved model."""
    from ..datasets import ImageReadError

    files = _expand_inputs(args.inputs)
    _import_tensorflow()
    model = _load_for_command(args.model, args.trust_model)
    if getattr(args, "tta", None) is not None:
        _set_tta(model["estimator"], args.tta, args.model)
    names = model["target_names"]
    writer = _Writer(args.format, names, sys.stdout)
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        from ..model_selection._evaluate import _bar_kwargs

        bar = tqdm(total=len(files), desc="predicting", unit="image",
                   **_bar_kwargs())
    failed = 0
    try:
        for start in range(0, len(files), args.batch_size):
            batch = files[start:start + args.batch_size]
            try:
                results = list(zip(batch, _predict_batch(model, batch), strict=True))
            except ImageReadError:
                # Find the unreadable file(s); predict the others one by one.
                results = []
                for path in batch:
                    try:
                        results.append((path, _predict_batch(model, [path])[0]))
                    except ImageReadError as exc:
                        failed += 1
                        if bar is not None:
                            bar.clear()
                        _err(f"warning: skipped {path}: {exc}")
            for path, (k, prob, probas) in results:
                writer.write(path, names[k], prob, probas)
            if bar is not None:
                bar.update(len(batch))
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    if failed:
        _err(f"error: {failed} of {len(files)} image(s) could not be read")
        return 1
    return 0
