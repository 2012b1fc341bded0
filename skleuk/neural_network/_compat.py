"""Compatibility shims of the CNN: TensorFlow's log noise and sklearn tags."""

from __future__ import annotations

import contextlib
import logging

from sklearn.utils import ClassifierTags, Tags, TargetTags

__all__ = ["EndOfTagsChain", "classifier_tags", "quiet_retracing"]


class _DropRetracingWarnings(logging.Filter):
    """Drop TensorFlow's "tf.function retracing" warnings.

    Every fit builds a new network on purpose (cross-validation, grid
    search), which TensorFlow reports as excessive retracing.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing():
    """Silence TensorFlow's retracing warnings inside the block."""
    logger = logging.getLogger("tensorflow")
    log_filter = _DropRetracingWarnings()
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


class EndOfTagsChain:
    """Last base class: the end of the ``__sklearn_tags__`` ``super()`` chain.

    scikit-learn 1.6 still reads SciKeras's old ``_more_tags``; its fallback
    then calls ``ClassifierMixin.__sklearn_tags__``, whose ``super()`` --
    behind ``BaseEstimator`` in a KerasClassifier's MRO -- would be
    ``object``, and ``is_classifier`` raised AttributeError. This class,
    placed last, answers that call. Newer scikit-learn never reaches it.
    """

    def __sklearn_tags__(self):
        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


def classifier_tags(tags):
    """Update ``tags`` in place: a classifier of one 3-D image per sample.

    KerasClassifier lists ClassifierMixin after BaseEstimator, so the
    mixin's tags never apply (and SciKeras's ``_more_tags`` is ignored by
    scikit-learn >= 1.7): ``is_classifier()`` would be False, ``cv=5`` would
    not stratify and ``roc_auc`` scorers would fail. Returns ``tags``.
    """
    tags.estimator_type = "classifier"
    tags.classifier_tags = ClassifierTags(
        poor_score=True, multi_class=True, multi_label=False
    )
    tags.target_tags.required = True
    tags.target_tags.single_output = True
    tags.target_tags.multi_output = False
    tags.target_tags.one_d_labels = True
    tags.input_tags.two_d_array = False
    tags.input_tags.three_d_array = True
    tags.requires_fit = True
    return tags
