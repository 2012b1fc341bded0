import keras
import numpy as np
import pytest

from skleuk.neural_network import (
    ARCHITECTURES,
    RandomColorJitter,
    RandomDihedral,
    build_lightweight_cnn,
    count_flops,
)
from skleuk.neural_network._architectures import resolve_architecture


def _layers(model):
    return [(type(la).__name__, tuple(la.output.shape[1:])) for la in model.layers]


def test_paper_architecture_is_algorithm_1():
    """Algorithm 1 in its order, with the shapes of 'valid' 6x6 convolutions."""
    model = build_lightweight_cnn((64, 64, 3), 2)
    assert _layers(model) == [
        ("InputLayer", (64, 64, 3)),
        ("Conv2D", (59, 59, 64)),
        ("Conv2D", (54, 54, 64)),
        ("Conv2D", (49, 49, 64)),
        ("MaxPooling2D", (24, 24, 64)),
        ("MaxPooling2D", (12, 12, 64)),
        ("Flatten", (9216,)),
        ("Dense", (128,)),
        ("Dropout", (128,)),
        ("BatchNormalization", (128,)),
        ("Dense", (2,)),
    ]
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    assert all(c.kernel_size == (6, 6) and c.filters == 64 for c in convs)
    assert all(c.activation.__name__ == "relu" for c in convs)
    assert all(
        la.pool_size == (2, 2)
        for la in model.layers
        if isinstance(la, keras.layers.MaxPooling2D)
    )
    dense, out = (la for la in model.layers if isinstance(la, keras.layers.Dense))
    assert dense.activation.__name__ == "relu"
    assert out.activation.__name__ == "softmax"
    drop = next(la for la in model.layers if isinstance(la, keras.layers.Dropout))
    assert drop.rate == 0.1
    # 3*36*64+64 + 2*(64*36*64+64) + 9216*128+128 + 4*128 + 128*2+2
    assert model.count_params() == 1_482_562


def test_parameter_counts_of_presets():
    counts = {
        (arch, s): build_lightweight_cnn((s, s, 3), 2, architecture=arch).count_params()
        for arch in ("paper", "light")
        for s in (32, 48)
    }
    assert counts == {
        ("paper", 32): 433_986,
        ("paper", 48): 827_202,
        ("light", 32): 28_130,
        ("light", 48): 28_130,  # global pooling: independent of the size
    }
    # "wide": light with 32, 64 and 128 filters.
    # (3*9*32+32) + (32*9*64+64) + (64*9*128+128) + 128*64+64 + 4*64 + 64*2+2
    assert build_lightweight_cnn((32, 32, 3), 2, architecture="wide").count_params() \
        == 101_890


def test_light_architecture_layers():
    model = build_lightweight_cnn((32, 32, 3), 4, architecture="light")
    assert _layers(model) == [
        ("InputLayer", (32, 32, 3)),
        ("Conv2D", (32, 32, 16)),
        ("MaxPooling2D", (16, 16, 16)),
        ("Conv2D", (16, 16, 32)),
        ("MaxPooling2D", (8, 8, 32)),
        ("Conv2D", (8, 8, 64)),
        ("GlobalAveragePooling2D", (64,)),
        ("Dense", (64,)),
        ("Dropout", (64,)),
        ("BatchNormalization", (64,)),
        ("Dense", (4,)),
    ]


def test_overrides_change_the_network():
    model = build_lightweight_cnn(
        (20, 20, 3),
        3,
        n_conv_layers=2,
        filters=(4, 8),
        kernel_size=3,
        padding="same",
        pooling=(1, 2),
        pool_size=2,
        global_pooling=False,
        dense_units=0,
        dropout=0.0,
        batch_norm=False,
    )
    assert _layers(model) == [
        ("InputLayer", (20, 20, 3)),
        ("Conv2D", (20, 20, 4)),
        ("MaxPooling2D", (10, 10, 4)),
        ("Conv2D", (10, 10, 8)),
        ("MaxPooling2D", (5, 5, 8)),
        ("Flatten", (200,)),
        ("Dense", (3,)),
    ]


def test_pooling_options():
    spec = resolve_architecture("paper")
    assert spec["pool_after"] == (3, 3) and spec["filters"] == (64, 64, 64)
    assert resolve_architecture("paper", pooling="interleaved")["pool_after"] == (1, 2)
    assert resolve_architecture("paper", n_pool_layers=1)["pool_after"] == (3,)
    assert resolve_architecture("paper", pooling=(2, 0))["pool_after"] == (0, 2)
    # the light preset's per-layer filters follow a changed depth
    assert resolve_architecture("light", n_conv_layers=4)["filters"] == (16, 32, 64, 64)
    assert resolve_architecture("light", n_conv_layers=2)["filters"] == (16, 32)


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"pooling": (4,)}, "only 3"),
        ({"pooling": "everywhere"}, "pooling must be"),
        ({"filters": (8, 8)}, "2 entries"),
        ({"filters": 0}, "filters"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"padding": "full"}, "padding"),
        ({"batch_norm": "yes"}, "batch_norm"),
        ({"n_conv_layers": 0}, "n_conv_layers"),
    ],
)
def test_invalid_architecture_parameters(overrides, match):
    with pytest.raises(ValueError, match=match):
        resolve_architecture("paper", **overrides)


def test_unknown_preset_and_key():
    with pytest.raises(ValueError, match="architecture must be one of"):
        resolve_architecture("resnet")
    with pytest.raises(ValueError, match="Unknown architecture parameter"):
        resolve_architecture("paper", depth=3)
    assert set(ARCHITECTURES) == {"paper", "light", "wide"}


def test_too_small_input_gives_clear_error():
    msg = r"16x16 pixels are too small.*after pooling layer 1 .*at least 19x19"
    with pytest.raises(ValueError, match=msg):
        build_lightweight_cnn((16, 16, 3), 2)
    build_lightweight_cnn((19, 19, 3), 2)  # the announced minimum works


def test_n_classes_and_shape_validation():
    with pytest.raises(ValueError, match="n_classes"):
        build_lightweight_cnn((32, 32, 3), 1)
    with pytest.raises(ValueError, match="input_shape"):
        build_lightweight_cnn((32, 32), 2)


def test_augmentation_layers_come_first():
    model = build_lightweight_cnn((32, 32, 3), 2, augment=True)
    assert isinstance(model.layers[1], RandomDihedral)
    assert isinstance(model.layers[2], RandomColorJitter)
    assert isinstance(model.layers[3], keras.layers.Conv2D)
    # same parameters as without augmentation
    assert model.count_params() == 433_986


def test_dtype_policy_keeps_output_float32():
    model = build_lightweight_cnn((32, 32, 3), 2, dtype_policy="mixed_bfloat16")
    conv = model.get_layer("conv1")
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
    assert model.get_layer("probabilities").compute_dtype == "float32"
    out = model(np.zeros((1, 32, 32, 3), np.float32))
    assert out.dtype == "float32"


def test_count_flops_hand_calculation():
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)  # 8x8x4 outputs, 3*3*3 MACs each
    x = keras.layers.MaxPooling2D(2)(x)  # not counted
    x = keras.layers.Conv2D(2, 2, padding="same")(x)  # 4x4x2 outputs, 2*2*4 MACs
    x = keras.layers.Flatten()(x)  # 32
    outputs = keras.layers.Dense(5)(x)  # 32*5 MACs
    model = keras.Model(inputs, outputs)
    expected = 2 * (8 * 8 * 4 * 27 + 4 * 4 * 2 * 16 + 32 * 5)
    assert count_flops(model) == expected == 15_168


def test_count_flops_other_layer_types_and_nesting():
    inner_in = keras.Input((6, 6, 4))
    inner = keras.Model(inner_in, keras.layers.DepthwiseConv2D(3)(inner_in))
    inputs = keras.Input((6, 6, 4))
    x = inner(inputs)  # 4x4x4 outputs, 9 MACs each
    x = keras.layers.SeparableConv2D(8, 3, padding="same")(x)
    model = keras.Model(inputs, x)
    depthwise = 2 * 4 * 4 * 4 * 9
    separable = 2 * 4 * 4 * 4 * 9 + 2 * 4 * 4 * 4 * 8
    assert count_flops(model) == depthwise + separable
    # Dense on a sequence counts once per position
    seq_in = keras.Input((7, 3))
    assert count_flops(keras.Model(seq_in, keras.layers.Dense(2)(seq_in))) == 2 * 7 * 6


def test_count_flops_paper_and_light():
    paper = build_lightweight_cnn((32, 32, 3), 2)
    expected = 2 * (
        27 * 27 * 64 * 36 * 3
        + 22 * 22 * 64 * 36 * 64
        + 17 * 17 * 64 * 36 * 64
        + 1024 * 128
        + 128 * 2
    )
    assert count_flops(paper) == expected == 238_307_328
    light = build_lightweight_cnn((64, 64, 3), 2, architecture="light")
    assert count_flops(light) == 22_421_760
    assert count_flops(build_lightweight_cnn((64, 64, 3), 2)) > 70 * count_flops(light)


def test_count_flops_needs_fixed_sizes():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    with pytest.raises(ValueError, match="unknown spatial dimensions"):
        count_flops(model)
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built"):
        count_flops(unbuilt)


def test_conv_batch_norm_blocks():
    from skleuk.neural_network import build_lightweight_cnn

    model = build_lightweight_cnn((16, 16, 3), 2, architecture="light",
                                  conv_batch_norm=True)
    names = [layer.name for layer in model.layers]
    for i in (1, 2, 3):
        conv = model.get_layer(f"conv{i}")
        assert conv.use_bias is False and conv.activation.__name__ == "linear"
        assert names.index(f"conv{i}_bn") == names.index(f"conv{i}") + 1
        assert names.index(f"conv{i}_relu") == names.index(f"conv{i}") + 2
    plain = build_lightweight_cnn((16, 16, 3), 2, architecture="light")
    assert "conv1_bn" not in [layer.name for layer in plain.layers]
    with pytest.raises(ValueError, match="conv_batch_norm"):
        build_lightweight_cnn((16, 16, 3), 2, conv_batch_norm="yes")
