"""Hypothesis strategies shared by the preprocessing tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@st.composite
def image_batches(draw, min_side=1, max_side=24, low=0.0, high=1.0):
    """Small float32 batches (1-3 images) in ``[low, high]`` of any height
    and width between ``min_side`` and ``max_side``."""
    shape = (
        draw(st.integers(1, 3)),
        draw(st.integers(min_side, max_side)),
        draw(st.integers(min_side, max_side)),
        3,
    )
    elements = st.floats(low, high, width=32, allow_subnormal=False)
    return draw(arrays(np.float32, shape, elements=elements))
