"""``skleuk predict``: classify image files with a saved model."""

from __future__ import annotations

import re
import sys
from collections import Counter

from ..utils._progress import progress_bar
from ._common import CLIError, _err, _import_tensorflow
from ._data import _expand_inputs
from ._model import _load_for_command
from ._output import _Writer

#: Longer side at which images are read for the checks (the detector works
#: on a copy a few hundred pixels wide anyway).
_CHECK_SIZE = 512
# An image read with reduce_to=_CHECK_SIZE whose longer side is below it was
# not reduced (a reduced image keeps at least that): it is the file at full
# resolution, what an ImageReader(size=None) reads, and is handed to the
# model instead of reading the file a second time.


def _reader_tail(model):
    """The model's steps after its :class:`ImageReader`, when the reader
    returns the files exactly as :func:`read_image` decodes them (a
    ``Pipeline`` starting with ``ImageReader(size=None)``): images already
    decoded can then go to these steps instead of their paths. ``None``
    otherwise (a reader that resizes while decoding, a wrapped pipeline,
    no reader): the model reads the files itself."""
    from sklearn.pipeline import Pipeline

    from ..preprocessing import ImageReader

    est = model["estimator"]
    if model["input"] != "paths" or not isinstance(est, Pipeline):
        return None
    first = est.steps[0][1]
    if type(first) is not ImageReader or first.size is not None or len(est) < 2:
        return None
    return first, est[1:]


def _as_reader_output(reader, images):
    """What ``reader.transform`` returns for files decoded to ``images``."""
    from ..utils._image_ops import stack_if_uniform
    from ..utils.validation import check_images

    images = stack_if_uniform(list(images))
    if reader.dtype == "float32":
        images = check_images(images, allow_ragged=True)
    return images


def _predict_batch(model, paths, images=None):
    """(pred_index, prob, probas, None) per path; raises ImageReadError on
    bad files. ``images``: the files already decoded at full resolution
    (used when the model's reader would return the same arrays)."""
    import numpy as np

    est = model["estimator"]
    tail = _reader_tail(model) if images is not None else None
    if tail is not None:
        reader, steps = tail
        X = _as_reader_output(reader, images)
        est = steps
    elif model["input"] == "paths":
        X = np.asarray(paths, dtype=object)
    else:
        from ..datasets import read_images

        size = model["extra"].get("image_size")
        X = read_images(paths, size=size)
    classes = list(model["classes"])
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=float)
        est_classes = list(getattr(model["estimator"], "classes_", classes))
        idx = proba.argmax(axis=1)
        if hasattr(est, "best_threshold_") or hasattr(est, "threshold"):
            # A tuned operating point (--min-sensitivity): predict() decides.
            idx = np.array([est_classes.index(lab) for lab in est.predict(X)])
        pred = [classes.index(est_classes[i]) for i in idx]
        return [(p, float(proba[j, i]), proba[j], None) for j, (p, i)
                in enumerate(zip(pred, idx, strict=True))]
    labels = est.predict(X)
    return [(classes.index(lab), None, None, None) for lab in labels]


def _screen_batch(model, paths):
    """The same for a screening model: its verdict per smear, or referred
    ("no white cell found", blank, too small) when it found no white cell."""
    from ..datasets import read_image
    from ..screening import referral_reason

    classes = list(model["classes"])
    out = []
    for res in model["estimator"].screen(list(paths)):
        if not res.found:
            image = read_image(res.source, reduce_to=_CHECK_SIZE)
            out.append((None, None, None, referral_reason(image, n_cells=0)))
            continue
        k = classes.index(res.verdict)
        out.append((k, float(res.image_proba[k]), res.image_proba, None))
    return out


def _set_tta(estimator, tta, path):
    """``--tta``/``--no-tta``: set every network's ``tta`` in the estimator."""
    keys = [k for k, v in estimator.get_params().items()
            if (k == "tta" or k.endswith("__tta")) and isinstance(v, bool)]
    if not keys:
        raise CLIError(
            f"--{'' if tta else 'no-'}tta: the model in {path} has no network "
            "with test-time augmentation (no 'tta' parameter).", code=2)
    estimator.set_params(**dict.fromkeys(keys, tta))


class _Predictor:
    """One batch at a time: the checks, then the model on what passed."""

    def __init__(self, model, check):
        self.model = model
        self.check = check
        self.screener = model["input"] == "smears"
        self.failed = 0
        self.referred = Counter()
        self.unfamiliar = 0  # images in batches that looked unfamiliar

    def _answer(self, paths, images=None):
        import warnings

        from ..exceptions import UnfamiliarImageWarning

        # A model trained with --familiarity warns per batch: counted here,
        # reported once at the end; every other warning passes on.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnfamiliarImageWarning)
            if self.screener:
                answers = _screen_batch(self.model, paths)
            else:
                answers = _predict_batch(self.model, paths, images)
        for w in caught:
            if issubclass(w.category, UnfamiliarImageWarning):
                self.unfamiliar += round(w.message.share * w.message.n_images)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return answers

    def run(self, batch, warn):
        """``[(path, (k, prob, probas, note))]`` for the readable files."""
        from ..datasets import ImageReadError

        notes, todo, decoded = {}, [], []
        if not self.check or self.screener:
            # A screener locates the cells itself (none: referred after).
            todo = list(batch)
        else:
            from ..datasets import read_image
            from ..screening import referral_reasons

            paths, images = [], []
            for path in batch:
                try:
                    images.append(read_image(path, reduce_to=_CHECK_SIZE))
                except ImageReadError as exc:
                    self.failed += 1
                    warn(path, exc)
                    continue
                paths.append(path)
            # The checks of the whole batch at once (the detector runs once
            # per image size, not once per image).
            for path, image, note in zip(paths, images, referral_reasons(images),
                                         strict=True):
                notes[path] = note
                if note is None:
                    todo.append(path)
                    decoded.append(image)
        # The decoded images go to the model when every one of them is the
        # file at full resolution (else the model reads the paths).
        images = None
        if (self.check and not self.screener and decoded
                and all(max(im.shape[:2]) < _CHECK_SIZE for im in decoded)):
            images = decoded
        try:
            answers = (dict(zip(todo, self._answer(todo, images), strict=True))
                       if todo else {})
        except ImageReadError:
            # Find the unreadable file(s); predict the others one by one.
            answers = {}
            for path in todo:
                try:
                    answers[path] = self._answer([path])[0]
                except ImageReadError as exc:
                    self.failed += 1
                    warn(path, exc)
        rows = []
        for path in batch:
            if notes.get(path) is not None:
                rows.append((path, (None, None, None, notes[path])))
            elif path in answers:
                rows.append((path, answers[path]))
        for _, (*_, note) in rows:
            if note is not None:
                self.referred[re.split(r"[:(]", note)[0].strip()] += 1
        return rows


def cmd_predict(args):
    """``skleuk predict``: classify images with a saved model."""
    files = _expand_inputs(args.inputs)
    _import_tensorflow()
    model = _load_for_command(args.model, args.trust_model)
    if getattr(args, "tta", None) is not None:
        _set_tta(model["estimator"], args.tta, args.model)
    names = model["target_names"]
    writer = _Writer(args.format, names, sys.stdout)
    predictor = _Predictor(model, check=not args.no_image_check)
    bar = progress_bar(len(files), "predicting", "image", enabled=not args.quiet)

    def warn(path, exc):
        if bar is not None:
            bar.clear()
        _err(f"warning: skipped {path}: {exc}")

    try:
        for start in range(0, len(files), args.batch_size):
            batch = files[start:start + args.batch_size]
            for path, (k, prob, probas, note) in predictor.run(batch, warn):
                writer.write(path, None if k is None else names[k], prob, probas,
                             note)
            if bar is not None:
                bar.update(len(batch))
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    if predictor.referred:
        why = ", ".join(f"{r}: {n}" for r, n in predictor.referred.most_common())
        _err(f"warning: {sum(predictor.referred.values())} of {len(files)} "
             f"image(s) referred without a class ({why})")
    if predictor.unfamiliar:
        _err(f"warning: {predictor.unfamiliar} of {len(files)} image(s) look unlike "
             "the model's training images (another laboratory, stain, camera or "
             "magnification?); its calls on them may be confidently wrong: check "
             "some by eye")
    if predictor.failed:
        _err(f"error: {predictor.failed} of {len(files)} image(s) could not be read")
        return 1
    return 0
