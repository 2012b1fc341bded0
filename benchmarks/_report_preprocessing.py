"""The preprocessing fragment of the benchmark report: skleuk's steps, with
both backends, against OpenCV, and the whole chain (see ``_report``)."""

from __future__ import annotations

from ._report_rst import _list_table, _when


def preprocessing_fragment(res):
    """skleuk steps against OpenCV (both skleuk backends when measured)."""
    rows = []
    cpu_col = any("ratio_cpu_1thread" in r for r in res["steps"])
    np_col = any("ratio_numpy" in r for r in res["steps"])
    before = (res.get("previous") or {}).get("ratios") or {}
    n_cols = 8 + cpu_col + 3 * np_col
    for r in res["steps"]:
        if r.get("opencv"):
            old = before.get(r["step"])
            numpy_cells = [
                f"{r['skleuk_numpy_s'] * 1e3:.0f}", f"{r['ratio_numpy']:.2f}",
                f"{r['ratio_numpy_cpu_1thread']:.2f}",
            ] if "ratio_numpy" in r else [""] * 3
            rows.append([r["step"]
                         + (" (OpenCV)" if r.get("skleuk_uses_opencv") else ""),
                         f"{r['skleuk_s'] * 1e3:.0f}",
                         f"``{r['opencv']}``", f"{r['opencv_s'] * 1e3:.0f}",
                         f"{r['ratio']:.2f}", f"{r['ratio_1thread']:.2f}",
                         *([f"{r['ratio_cpu_1thread']:.2f}"] if cpu_col else []),
                         *(numpy_cells if np_col else []),
                         f"{old:.2f}" if old is not None else "",
                         f"{r['max_abs_difference']:.1e}"])
        else:
            rows.append([r["step"], f"{r['skleuk_s'] * 1e3:.0f}"]
                        + [""] * (n_cols - 2))
    prev = res.get("previous")
    before_txt = (
        f" *ratio before*: the same ratio in the previous run of this "
        f"benchmark ({prev.get('date')}, commit {prev.get('git_commit')}"
        + (f", {prev['cpu']}" if prev.get("cpu") else "")
        + "), under that run's load and machine: compare it with care, the "
        "ratios of one run are the robust figures." if prev else ""
    )
    config = res.get("skleuk_config")
    backend_txt = (
        f" skleuk runs in its default configuration (``opencv={config!r}``): "
        "the steps marked *(OpenCV)* call OpenCV, where it computes the same "
        "as their numpy code, the others run numpy on one core"
        + ("; the *numpy* columns time the same steps with "
           "``skleuk.set_config(opencv=False)`` in the same rounds (*ratio "
           "numpy (CPU)*: against 1-thread OpenCV in CPU time)" if np_col else "")
        + ". *ratio (1 thread)* and *ratio (CPU, 1 thread)* run OpenCV's pool "
        "at one thread on both sides."
        if config is not None else " skleuk runs numpy on one core."
    )
    cpu = (res.get("machine") or {}).get("cpu", {}).get("model_name")
    text = [
        (f"Measured on {cpu}. " if cpu else "")
        + f"{res['n_images']} synthetic images of {res['input_size']}x"
        f"{res['input_size']} pixels (ALL-IDB2-sized), float32 in [0, 1], "
        f"the same batch for both sides, timed in interleaved rounds (median "
        f"of the rounds). OpenCV {res['opencv_version']} filters one image "
        f"per call (a loop over the batch), with its default "
        f"{res['opencv_threads']} threads and with 1 thread."
        + backend_txt
        + " *ratio*: skleuk time / OpenCV time (lower is "
        "better; the target is 1.5 or less)."
        + (" *ratio (CPU)*: the same against 1-thread OpenCV in CPU time "
           "(``time.process_time`` of the same calls), which grows much less "
           "than the wall clock when the process waits for a busy core: the "
           "steadier figure under load." if cpu_col else "")
        + before_txt + " *max |diff|*: "
        "largest absolute difference between the two outputs (RGB in [0, 1]; "
        "L*a*b* units for the conversion).",
        "",
        _list_table(["skleuk step", "ms", "OpenCV equivalent", "ms", "ratio",
                     "ratio (1 thread)",
                     *(["ratio (CPU, 1 thread)"] if cpu_col else []),
                     *(["numpy ms", "ratio numpy", "ratio numpy (CPU)"]
                       if np_col else []),
                     "ratio before", "max abs diff"], rows),
        _chain_text(res),
        "",
        _when(res),
    ]
    return "\n".join(text) + "\n"


def _chain_text(res):
    """The paragraph on the whole chain (and the CNN of the same run)."""
    c = res["chain"]
    steps = ", ".join(f"{k} {v * 1e3:.0f}" for k, v in c["transform_step_s"].items())
    names = ", ".join(c.get("steps") or [])
    text = (
        "The whole preprocessing chain of :func:`skleuk.make_pipeline` "
        + (f"(default recipe: {names}; crop to {c['crop_size']} px, resize to "
           f"{c['image_size']} px) " if names else
           f"(colour, sharpen, average, crop to {c['crop_size']} px, resize to "
           f"{c['image_size']} px, scale) ")
        + f"on the {res['n_images']} raw uint8 images: ``fit_transform`` in "
        f"{c['fit_transform_s']:.2f} s "
        f"(**{c['fit_transform_images_per_s']:.0f} images/s**), ``transform`` "
        f"in {c['transform_s']:.2f} s "
        f"({c['transform_images_per_s']:.0f} images/s)"
    )
    if "transform_assume_finite_s" in c:
        text += (
            ", ``transform`` under ``sklearn.config_context(assume_finite="
            f"True)`` in {c['transform_assume_finite_s']:.2f} s "
            f"({c['transform_assume_finite_images_per_s']:.0f} images/s)"
        )
    text += f"; per step (``transform``), in ms: {steps}."
    if "reference_fit_transform_s" in c:
        text += (
            " The same steps in the paper's order ("
            + ", ".join(c["reference_steps"])
            + f"), timed in the same rounds: ``fit_transform`` in "
            f"{c['reference_fit_transform_s']:.2f} s "
            f"({c['reference_fit_transform_images_per_s']:.0f} images/s; the "
            "default order is "
            f"{c['reference_fit_transform_s'] / c['fit_transform_s']:.1f}x faster)."
        )
    if "cnn_train_images_per_s" in c:
        text += (
            f" In the same run, the default network (``{c['cnn_architecture']}"
            f"@{c['image_size']}``, batches of {c['cnn_batch_size']}, "
            f"{c.get('cnn_dtype_policy', 'float32')}) trains on the chain's "
            f"output at **{c['cnn_train_images_per_s']:.0f} images/s** (epochs "
            "after the first): the chain runs at "
            f"**{c['chain_over_cnn_train']:.2f}x** the network's training "
            "throughput (target: 5x)."
        )
    return text
