"""check_images messages for the unusual inputs of issue 15."""

import numpy as np
import pytest

from skleuk.preprocessing import Resizer
from skleuk.utils.validation import check_images


def test_slightly_out_of_range_floats_get_the_right_hint():
    X = np.full((2, 4, 4, 3), 0.5)
    X[0, 0, 0, 0], X[1, 0, 0, 0] = 0.001, 1.001
    with pytest.raises(ValueError) as info:
        check_images(X)
    assert "0-255" not in str(info.value) and "np.clip" in str(info.value)
    with pytest.raises(ValueError, match="0-255"):
        check_images(X * 200)


def test_channel_error_reports_the_whole_batch_shape():
    with pytest.raises(ValueError, match=r"shape \(4, 24, 24, 5\)"):
        check_images(np.zeros((4, 24, 24, 5), np.uint8))


def test_small_ambiguous_3d_array_warns():
    with pytest.warns(UserWarning, match=r"read as 3 grayscale image\(s\) of 3x3"):
        out = check_images(np.zeros((3, 3, 3), np.uint8))
    assert out.shape == (3, 3, 3, 3)
    with pytest.raises(ValueError, match="single"):
        check_images(np.zeros((24, 24, 3), np.uint8))


def test_float64_beyond_float32_is_a_clear_error():
    X = np.full((1, 2, 2, 3), 1e300)
    with pytest.raises(ValueError, match="fit float32"):
        check_images(X, value_range=None)


def test_tiny_image_enlarged_warns():
    with pytest.warns(UserWarning, match=r"enlarged more than 4x.*1x1"):
        out = Resizer(size=32).fit_transform(np.zeros((1, 1, 1, 3), np.uint8))
    assert out.shape == (1, 32, 32, 3)


@pytest.mark.parametrize("labels", [[0, 1], ["a", "b"]])
def test_metric_messages_show_plain_values(labels):
    from skleuk.metrics import sensitivity_score

    y = np.array(labels * 3)
    bad = np.int64(7) if isinstance(labels[0], int) else np.str_("z")
    with pytest.raises(ValueError) as info:
        sensitivity_score(y, y, pos_label=bad)
    msg = str(info.value)
    assert "np.int64" not in msg and "np.str_" not in msg
    assert repr(labels[0]) in msg
