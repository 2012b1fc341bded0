"""The speed benchmark's figures and fragments: what it computes from a run."""

import pytest

bench = pytest.importorskip(
    "benchmarks.bench_speed", reason="run from the repository root")


def _run():
    rates = [{"numpy_float32": 100.0, "numpy_float32_per_cpu_s": 60.0,
              "tf_float32": 90.0, "tf_float32_per_cpu_s": 50.0,
              "tf_bfloat16": 600.0, "tf_bfloat16_per_cpu_s": 400.0},
             {"numpy_float32": 50.0, "numpy_float32_per_cpu_s": 55.0,
              "tf_float32": 45.0, "tf_float32_per_cpu_s": 45.0,
              "tf_bfloat16": 300.0, "tf_bfloat16_per_cpu_s": 380.0}]
    profile = {"train_steps": 26, "batch_size": 16, "train_wall_ms_per_step": 40.0,
               "train_cpu_ms_per_step": 60.0, "train_ops_ms_per_step": 30.0,
               "train_parts_ms_per_step": {"convolutions, backward": 11.0,
                                           "augmentation layers": 1.5},
               "predict_batches": 39, "predict_wall_ms_per_batch": 80.0,
               "predict_ops_ms_per_batch": 70.0,
               "predict_parts_ms_per_batch": {"convolutions, forward": 40.0}}
    cli = [{"n_files": 500, "image_check": True, "peak_mib": 900.0, "wall_s": 60.0},
           {"n_files": 500, "image_check": False, "peak_mib": 890.0, "wall_s": 20.0},
           {"n_files": 2000, "image_check": True, "peak_mib": 905.0, "wall_s": 180.0,
            "images_per_s_after_start": 12.5, "cpu_ms_per_image_after_start": 9.0},
           {"n_files": 2000, "image_check": False, "peak_mib": 891.0, "wall_s": 50.0,
            "images_per_s_after_start": 50.0, "cpu_ms_per_image_after_start": 4.0}]
    res = {"matmul_gflops": rates, "flops_per_image": 1e8, "n_fit_images": 208,
           "size": 64, "epochs_timed": 5, "quick": False, "cpu_count": 2,
           "estimator_images_per_s": [200.0, 400.0],
           "estimator_images_per_cpu_s": [250.0],
           "batch_size": 16, "dtype_policy": "mixed_bfloat16", "architecture": "wide",
           "predict_images_per_s": {"tta": 100.0, "no_tta": 800.0,
                                    "tta_per_cpu_s": 80.0, "no_tta_per_cpu_s": 600.0},
           "default_epochs": 120,
           "screen": {"seconds": 0.8, "cpu_seconds": 0.5, "n_cells": 48,
                      "locate_seconds": 0.3, "locate_cpu_seconds": 0.2},
           "cli_predict": cli, "profile": profile,
           "load_average_start": [1.0, 1.0, 1.0], "load_average_end": [2.0, 2.0, 2.0]}
    res["ratios"] = bench.ratios(res)
    return res


def test_ratios_are_against_the_better_matrix_product():
    q = _run()["ratios"]
    # 3 x 0.1 GFLOP x 300 images/s (median of 200 and 400) = 90 GFLOP/s
    assert q["train_gflops"] == pytest.approx(90.0)
    assert q["train_over_sgemm"] == pytest.approx(0.9)  # the better of 100 and 50
    assert q["train_over_sgemm_per_cpu_s"] == pytest.approx(75.0 / 60.0)
    assert q["bf16_over_f32_matmul"] == pytest.approx(600.0 / 90.0)


def test_render_writes_the_tables_and_the_targets(tmp_path):
    speed, profile = bench.render(_run(), tmp_path)
    text = speed.read_text()
    assert "**0.90** x SGEMM" in text
    assert "5 x 120 epochs x 208 images" in text
    # the command's rate is the one with its image check (the default)
    assert ("12 images/s, 9.0 CPU-ms/image (50 images/s, 4.0 CPU-ms/image with "
            "``--no-image-check``)") in text
    assert "0.80 s (0.50 CPU-s)" in text
    assert "peak x 1.01" in text
    assert "``--no-image-check``" in text
    ptext = profile.read_text()
    assert "augmentation layers" in ptext and "60.00" in ptext
