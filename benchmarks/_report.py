"""Render the results files as reStructuredText fragments for the docs.

Every fragment goes to ``docs/_generated/`` and is included by
``docs/performance.rst`` (and ``dask.rst`` also by the user guide's scaling
page). Fragments have no section titles or labels: the including page gives
the headings. They are rewritten from whatever results files exist, so a
partial run (``--only``) refreshes its own tables and keeps the others.
"""

from __future__ import annotations

import json

from ._common import DOCS_GENERATED, RESULTS_DIR
from ._report_preprocessing import preprocessing_fragment
from ._report_rst import _as_list, _held, _list_table, _pct, _when

COMMAND = "``make bench`` (``python -m benchmarks.run``)"


# ---------------------------------------------------------------------------
def machine_fragment(res):
    """The machine and software the numbers were measured on."""
    m = res["machine"]
    cpu = m["cpu"]
    v = m["versions"]
    lines = [
        f"* **CPU**: {cpu['model_name']} (vendor {cpu['vendor']}, family "
        f"{cpu['family']}, model {cpu['model']}), {cpu['cores']} cores usable "
        f"by the process (``os.sched_getaffinity``), "
        f"{'in a virtual machine, ' if m.get('virtual_machine') else ''}"
        f"{cpu['cpu_mhz']:.0f} MHz as reported by ``/proc/cpuinfo``.",
        f"* **Vector units**: {', '.join(cpu['vector_flags'])}; "
        f"{'no AMX' if not cpu['amx'] else 'AMX: ' + ', '.join(cpu['amx'])}.",
        f"* **fp32 peak**: {cpu['formula']}."
        + (f" {cpu['note']}." if cpu.get("note") else "")
        + (f" bf16 peak (``avx512_bf16``: two products per fp32 lane): "
           f"{cpu['bf16_peak_gflops']:.0f} GFLOP/s." if cpu["avx512_bf16"]
           else ""),
        (f"* **Measured ceiling**: a float32 matrix product (numpy's BLAS, "
         f"2048x2048, all cores) runs at {m['sgemm_gflops']:.0f} GFLOP/s "
         f"({_pct(m['sgemm_gflops'] / cpu['fp32_peak_gflops'])} of the "
         "nominal peak; above 100 % means the cores run faster than the "
         "nominal clock).") if m.get("sgemm_gflops") else "",
        f"* **Memory**: {m.get('memory_gib')} GiB. **OS**: {m['os']}.",
        "* **Software**: Python " + m["python"] + ", "
        + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def targets_fragment(results):
    """One table: every target of the performance issue, held or not."""
    rows = []
    pre = results.get("preprocessing")
    cnn = results.get("cnn")
    if pre:
        compared = [r for r in pre["steps"] if r.get("opencv")]
        worst = max(compared, key=lambda r: r["ratio"])
        text = (f"worst: {worst['step']} at {worst['ratio']:.1f}x "
                f"({worst['ratio_1thread']:.1f}x against 1-thread OpenCV)")
        ok = worst["ratio"] <= 1.5
        if all("ratio_cpu_1thread" in r for r in compared):
            worst_cpu = max(compared, key=lambda r: r["ratio_cpu_1thread"])
            held = [r["step"] for r in compared
                    if max(r["ratio"], r["ratio_cpu_1thread"]) <= 1.5]
            text += (f"; in CPU time against 1-thread OpenCV, worst "
                     f"{worst_cpu['step']} at {worst_cpu['ratio_cpu_1thread']:.1f}x; "
                     f"within 1.5x on both measures: "
                     f"{', '.join(held) if held else 'none'}")
            ok = ok and worst_cpu["ratio_cpu_1thread"] <= 1.5
        config = pre.get("skleuk_config")
        if config is not None:
            backed = [r["step"] for r in compared if r.get("skleuk_uses_opencv")]
            text = (f"skleuk's default configuration (``opencv={config!r}``; "
                    f"OpenCV {pre['opencv_version']} installed, called by: "
                    f"{', '.join(backed) if backed else 'none'}): " + text)
            if all("ratio_numpy" in r for r in compared):
                worst_np = max(compared, key=lambda r: r["ratio_numpy"])
                text += (f". With ``opencv=False`` (numpy only, not judged): "
                         f"worst {worst_np['step']} at "
                         f"{worst_np['ratio_numpy']:.1f}x")
        rows.append(["every preprocessing step within 1.5x of OpenCV", text,
                     _held(ok)])
        crops = pre["chain"]["fit_transform_images_per_s"]
        load = pre.get("load_average_start")
        rows.append([
            f"preprocessing chain >= 500 crops/s of {pre['input_size']} px",
            f"{crops:.0f} images/s (``fit_transform``, "
            f"{pre['chain']['transform_images_per_s']:.0f} for ``transform``)"
            + (f" at a load average of {load[0]:.1f} on "
               f"{pre['machine']['cpu']['cores']} cores"
               if load and pre.get("machine") else ""),
            _held(crops >= 500),
        ])
    if pre and pre["chain"].get("cnn_train_images_per_s"):
        c = pre["chain"]
        train, prep = c["cnn_train_images_per_s"], c["fit_transform_images_per_s"]
        rows.append([
            "preprocessing >= 5x the CNN's training throughput "
            f"(``{c['cnn_architecture']}@{c['image_size']}``, batch "
            f"{c['cnn_batch_size']}, same run)",
            f"{prep:.0f} vs {train:.0f} images/s: {prep / train:.2f}x",
            _held(prep >= 5 * train),
        ])
    elif pre and cnn:
        size = pre["chain"]["image_size"]
        default = [r for r in cnn["throughput"] if r["size"] == size
                   and r["architecture"] == cnn.get("default_architecture")]
        if default:
            train = default[0]["images_per_s"]
            prep = pre["chain"]["fit_transform_images_per_s"]
            rows.append([
                "preprocessing >= 5x the CNN's training throughput "
                f"(``{default[0]['architecture']}@{size}``)",
                f"{prep:.0f} vs {train:.1f} images/s: {prep / train:.1f}x",
                _held(prep >= 5 * train),
            ])
    if cnn:
        paper = [r for r in cnn["throughput"] if r["architecture"] == "paper"]
        if paper:
            best = max(paper, key=lambda r: r["train_peak_fraction"])
            sg = best.get("train_sgemm_fraction")
            rows.append([
                "paper network training >= 50 % of fp32 peak",
                f"best {_pct(best['train_peak_fraction'])} of the nominal peak"
                + (f", {_pct(sg)} of measured SGEMM" if sg else "")
                + f" (``paper@{best['size']}``, {best['train_gflops']:.0f} GFLOP/s)",
                _held(best["train_peak_fraction"] >= 0.5),
            ])
    bf = results.get("bf16")
    if bf and bf.get("speed"):
        worst = min(bf["speed"], key=lambda r: r["train_speedup"])
        acc_txt = ""
        acc_ok = True
        for acc in _as_list(bf.get("accuracy")):
            noise = max(acc["float32_std"], acc["bf16_std"])
            acc_ok &= acc["mean_difference"] >= -max(noise, 1e-9)
            acc_txt += (f"; accuracy ``{acc['architecture']}@{acc['size']}`` bf16 "
                        f"{acc['bf16_mean']:.3f} vs float32 "
                        f"{acc['float32_mean']:.3f}")
        rows.append([
            "mixed_bfloat16 >= 1.5x training speed, no accuracy loss",
            f"training speed-up {min(r['train_speedup'] for r in bf['speed']):.2f}"
            f"-{max(r['train_speedup'] for r in bf['speed']):.2f}x{acc_txt}",
            _held(worst["train_speedup"] >= 1.5 and acc_ok),
        ])
    e2e = results.get("end_to_end")
    if e2e and e2e.get("rows"):
        default = [r for r in e2e["rows"] if r.get("label") == "recipe=default"]
        if default:
            r = default[0]
            rows.append([
                "default 5-fold evaluation of 260 images of 257 px under 10 minutes",
                f"default recipe ({r['architecture']}@{r['size']}, {r['epochs']} "
                f"epochs): {r['wall_s'] / 60:.1f} min",
                _held(r["wall_s"] <= 600),
            ])
    mem = results.get("memory")
    if mem and mem.get("predict"):
        peaks = [r["peak_mib"] for r in mem["predict"]]
        rows.append([
            "skleuk predict: peak RSS < 1 GB, flat in the number of images",
            ", ".join(f"{r['n_files']:,} files: {r['peak_mib']:.0f} MiB"
                      for r in mem["predict"]),
            _held(max(peaks) < 1000 and max(peaks) - min(peaks) < 0.1 * min(peaks)),
        ])
        pred = mem["predict"]
        if len(pred) >= 2:
            a, b = pred[0], pred[-1]
            rate = (b["n_files"] - a["n_files"]) / (b["wall_s"] - a["wall_s"])
            rows.append([
                f"skleuk predict on {b['n_files']:,} files of 257 px: >= 200 "
                "images/s end to end",
                f"{rate:.0f} images/s (the files after the first "
                f"{a['n_files']:,}, so without start-up; all {b['n_files']:,} "
                f"with start-up: {b['n_files'] / b['wall_s']:.0f} images/s); "
                f"model: ``{mem.get('model', '?')}``",
                _held(rate >= 200),
            ])
    if not rows:
        return None
    return _list_table(["target", "measured", "verdict"], rows, widths=[35, 50, 15])


def cnn_fragment(res):
    """Throughput, FLOPs and share of peak."""
    peak = res["machine"]["cpu"]["fp32_peak_gflops"]
    sgemm = res["machine"].get("sgemm_gflops")
    rows = [[f"``{r['architecture']}@{r['size']}``", f"{r['params']:,}",
             f"{r['flops'] / 1e9:.3f}", f"{r['images_per_s']:.1f}",
             f"{r['train_gflops']:.1f}", _pct(r["train_peak_fraction"]),
             _pct(r["train_sgemm_fraction"]) if "train_sgemm_fraction" in r else "",
             f"{r['predict_images_per_s']:.0f}", f"{r['predict_gflops']:.1f}",
             _pct(r["predict_peak_fraction"])] for r in res["throughput"]]
    text = [
        ":class:`~skleuk.neural_network.LightweightCNNClassifier` trained "
        "through its ``fit`` (seeded, batch size 64) on float32 images of the "
        "given size; training images/s from the epochs after the first (which "
        "traces the graph), inference from ``predict_proba``. GFLOP/img is "
        "the forward cost from :func:`skleuk.neural_network.count_flops` "
        "(2 x multiply-accumulates of the convolutions and dense layers); a "
        "training step is counted as **3 x the forward FLOPs** (forward pass, "
        "gradient with respect to the activations, gradient with respect to "
        "the weights; slightly less in truth, since the first layer needs no "
        f"gradient with respect to its input). % peak: of the nominal fp32 "
        f"peak of {peak:.0f} GFLOP/s; % SGEMM: of the measured matrix-product "
        f"rate{f' of {sgemm:.0f} GFLOP/s' if sgemm else ''} (see the machine "
        "above).",
        "",
        _list_table(["network", "parameters", "GFLOP/img", "train img/s",
                     "train GFLOP/s", "% peak", "% SGEMM", "predict img/s",
                     "predict GFLOP/s", "% peak"], rows),
    ]
    det = res.get("determinism") or []
    for d in det:
        text += [
            f"Seeding: a fit with ``random_state`` set runs with TensorFlow's "
            f"op determinism on. ``{d['architecture']}@{d['size']}`` trains at "
            f"{d['seeded_images_per_s']:.1f} images/s seeded and "
            f"{d['unseeded_images_per_s']:.1f} unseeded "
            f"(unseeded / seeded = {d['unseeded_over_seeded']:.2f}).",
            "",
        ]
    text.append(_when(res))
    return "\n".join(text) + "\n"


def bf16_fragment(res):
    """bfloat16 mixed precision against float32."""
    text = []
    if res.get("speed"):
        rows = [[f"``{r['architecture']}@{r['size']}``",
                 f"{r['float32_train_images_per_s']:.1f}",
                 f"{r['bf16_train_images_per_s']:.1f}",
                 f"{r['train_speedup']:.2f}",
                 f"{r['float32_predict_images_per_s']:.0f}",
                 f"{r['bf16_predict_images_per_s']:.0f}",
                 f"{r['predict_speedup']:.2f}"] for r in res["speed"]]
        text += [
            "``LightweightCNNClassifier(dtype_policy=\"mixed_bfloat16\")`` "
            "(hidden layers compute in bfloat16, the weights and the output "
            "layer stay float32) against the float32 default, same data and "
            "seed, alternating runs (median):",
            "",
            _list_table(["network", "float32 train img/s", "bf16 train img/s",
                         "speed-up", "float32 predict img/s",
                         "bf16 predict img/s", "speed-up"], rows),
        ]
    for acc in _as_list(res.get("accuracy")):
        rows = [[str(r["seed"]), f"{r['float32_accuracy']:.3f}",
                 f"{r['mixed_bfloat16_accuracy']:.3f}",
                 f"{r['float32_fit_s']:.0f}", f"{r['mixed_bfloat16_fit_s']:.0f}"]
                for r in acc["per_seed"]]
        rows.append(["mean +/- std",
                     f"{acc['float32_mean']:.3f} +/- {acc['float32_std']:.3f}",
                     f"{acc['bf16_mean']:.3f} +/- {acc['bf16_std']:.3f}", "", ""])
        text += [
            f"Accuracy: the full pipeline (``{acc['architecture']}@{acc['size']}``, "
            f"{acc['epochs']} epochs) on a stratified 75/25 split of "
            f"{acc['n_samples']} synthetic images (``class_sep="
            f"{acc.get('class_sep', 1.0):g}``), per seed (split and "
            "weights), float32 and bf16 from the same seed:",
            "",
            _list_table(["seed", "float32 accuracy", "bf16 accuracy",
                         "float32 fit (s)", "bf16 fit (s)"], rows),
        ]
    text.append(_when(res))
    return "\n".join(text) + "\n"


def pipeline_fragment(res):
    """Pipeline overhead and share per step."""
    rows = [[f"``{r['architecture']}@{r['size']}``", f"{r['pipeline_predict_s']:.3f}",
             f"{r['sum_of_steps_s']:.3f}", f"{r['classifier_predict_s']:.3f}",
             f"{r['keras_predict_s']:.3f}", f"{r['pipeline_over_steps']:.2f}",
             f"{r['classifier_over_keras']:.2f}"] for r in res["rows"]]
    names = list(res["rows"][0]["step_share"])
    shares = [[f"``{r['architecture']}@{r['size']}``",
               *[_pct(r["step_share"][k]) for k in names]] for r in res["rows"]]
    n = res["rows"][0]["n_images"]
    text = [
        f"``predict`` on {n} raw 257x257 images: the whole pipeline, the sum "
        "of its steps called one by one, the classifier step alone on "
        "preprocessed images, and the bare Keras model's ``predict`` on the "
        "same preprocessed arrays (seconds, median of interleaved rounds):",
        "",
        _list_table(["network", "pipeline.predict", "sum of steps",
                     "classifier.predict", "Keras predict", "pipeline / steps",
                     "classifier / Keras"], rows),
        "Share of the time per step:",
        "",
        _list_table(["network", *names], shares),
        _when(res),
    ]
    return "\n".join(text) + "\n"


def _end_to_end_table(res):
    rows = [[f"``{r.get('label', r['architecture'] + '@' + str(r['size']))}``",
             f"{r['architecture']}, {r['size']} px, {r['epochs']} epochs",
             f"{r['wall_s'] / 60:.1f}",
             f"{r['accuracy_mean']:.3f} +/- {r['accuracy_std']:.3f}",
             f"{r['roc_auc_mean']:.3f} +/- {r['roc_auc_std']:.3f}",
             f"{r['fit_time_mean_s']:.0f}",
             f"{r['load_average_start'][0]:.1f}"] for r in res["rows"]]
    return _list_table(["pipeline", "network", "wall time (min)", "accuracy",
                        "ROC AUC", "fit per fold (s)", "load at start"], rows)


def end_to_end_fragment(res, harder=()):
    """Wall time and accuracy of the default evaluation, per candidate.

    ``harder``: results of the same run on less separated classes
    (``class_sep`` < 1), shown after the main table.
    """
    r0 = res["rows"][0]
    text = [
        f":func:`skleuk.model_selection.evaluate` of ``make_pipeline(...)`` "
        f"(seeded) per recipe or candidate: stratified "
        f"{r0['folds']}-fold cross-validation, the recipe's epochs, on "
        f"{r0['n_images']} synthetic ALL-IDB2-sized images (257 px, "
        f"``make_blood_smears`` with its default ``class_sep="
        f"{res.get('class_sep', 1.0):g}``). Wall time of the whole run; "
        "accuracy and ROC AUC: mean +/- standard deviation over the folds. "
        "Synthetic images are not real smears: use these accuracies to "
        "compare settings, not as a prediction for ALL-IDB.",
        "",
        _end_to_end_table(res),
    ]
    if res.get("recommendation"):
        text += [res["recommendation"], ""]
    text.append(_when(res))
    text.append("")
    for h in harder:
        text += [
            f"The default synthetic classes are easy (every candidate is "
            f"near 100 %). The same run on harder data, ``class_sep="
            f"{h['class_sep']:g}`` (the two cell types closer in size, "
            "nucleus and chromatin), separated the candidates of the "
            "recipe of that time (measured on its date; the default is now "
            "chosen on real smears, see the Results page):",
            "",
            _end_to_end_table(h),
        ]
        text += [_when(h), ""]
    return "\n".join(text) + "\n"


def memory_fragment(res):
    """Peak RSS of training and of ``skleuk predict``."""
    rows = [["``python -c 'import skleuk.neural_network'``", "",
             f"{res['import_peak_mib']:.0f}", ""]]
    for r in res["train"]:
        rows.append([f"``fit`` of the pipeline ``{r['architecture']}@"
                     f"{r['size']}``, {r['epochs']} epochs", str(r["n_images"]),
                     f"{r['peak_mib']:.0f}", f"{r['wall_s']:.0f}"])
        if "peak_after_preprocessing_mib" in r:
            rows.append(["... of which: data made, before fitting", "",
                         f"{r['peak_before_fit_mib']:.0f}", ""])
            rows.append(["... of which: after the preprocessing steps", "",
                         f"{r['peak_after_preprocessing_mib']:.0f}", ""])
    for r in res["predict"]:
        rows.append([f"``skleuk predict --batch-size {res['batch_size']}``",
                     f"{r['n_files']:,}", f"{r['peak_mib']:.0f}",
                     f"{r['wall_s']:.0f}"])
    text = [
        "Peak resident set size of a fresh child process (``VmHWM``, polled "
        "from ``/proc`` while it runs). Training holds the 260 images of "
        "257 px as uint8 (52 MB). ``skleuk predict`` classifies folders of "
        f"257 px PNG files with a saved ``{res['model']}`` (trained on 200 of "
        "the files) and reads and classifies ``--batch-size`` files at a "
        "time; its wall time includes starting Python and TensorFlow and "
        "loading the model.",
        "",
        _list_table(["process", "images", "peak RSS (MiB)", "wall (s)"], rows),
    ]
    pred = res["predict"]
    if len(pred) >= 2:
        a, b = pred[0], pred[-1]
        rate = (b["n_files"] - a["n_files"]) / (b["wall_s"] - a["wall_s"])
        text += [
            f"From {a['n_files']:,} to {b['n_files']:,} files the peak changes "
            f"by {b['peak_mib'] - a['peak_mib']:+.0f} MiB; the extra files "
            f"are classified at {rate:.0f} images/s.",
            "",
        ]
    text.append(_when(res))
    return "\n".join(text) + "\n"


def dask_fragment(res):
    """Grid search serial, loky and Dask."""
    rows = [[name, f"{r['wall_s']:.0f}", f"{r['speedup']:.2f}",
             "" if r["startup_s"] is None else f"{r['startup_s']:.0f}",
             f"{r['best_score']:.3f}"] for name, r in res["runs"].items()]
    grid = ", ".join(f"``{k}`` in {v}" for k, v in res["grid"].items())
    cpu = res["machine"]["cpu"]
    text = [
        f"A :class:`~sklearn.model_selection.GridSearchCV` over "
        f"``make_pipeline(reader=True, architecture=\"light\")`` ({grid}; "
        f"{res['cv']}-fold, {res['epochs']} epochs; "
        f"{len(res['grid']['cnn__optimizer']) * len(res['grid']['resize__size'])}"
        f" settings, {res['cv'] * 4} fits plus the refit) on "
        f"{res['n_images']} PNG files of 257 px: only the file paths travel "
        "to the workers, which read their own images. On "
        f"{cpu['cores']} cores:",
        "",
        _list_table(["backend", "wall (s)", "speed-up", "cluster start (s)",
                     "best CV accuracy"], rows),
        "Every worker is a process with its own TensorFlow, which already "
        "uses all the cores it sees for one training: on a small machine "
        "the parallel backends only gain the time a single fit leaves cores "
        "idle (Python, preprocessing, reading files). The gain comes with "
        "more machines -- each Dask worker machine adds its cores.",
        "",
        _when(res),
    ]
    return "\n".join(text) + "\n"


FRAGMENTS = {
    "preprocessing": ("performance_preprocessing.rst", preprocessing_fragment),
    "cnn": ("performance_cnn.rst", cnn_fragment),
    "bf16": ("performance_bf16.rst", bf16_fragment),
    "pipeline": ("performance_pipeline.rst", pipeline_fragment),
    "end_to_end": ("performance_end_to_end.rst", end_to_end_fragment),
    "memory": ("performance_memory.rst", memory_fragment),
    "dask": ("dask.rst", dask_fragment),
}


def _read(results_dir, name):
    path = results_dir / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_docs(results_dir=RESULTS_DIR, out_dir=DOCS_GENERATED):
    """Rewrite every fragment that has a results file; return the paths.

    Parameters
    ----------
    results_dir : path-like, default=RESULTS_DIR
        Folder of the ``<section>.json`` files.
    out_dir : path-like, default=DOCS_GENERATED
        Folder of the fragments (``docs/_generated``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from pathlib import Path

    results_dir, out_dir = Path(results_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {name: _read(results_dir, name) for name in FRAGMENTS}
    written = []
    harder = sorted(
        (json.loads(p.read_text())
         for p in results_dir.glob("end_to_end_sep*.json")),
        key=lambda r: -r.get("class_sep", 1.0),
    )
    for name, (fname, render) in FRAGMENTS.items():
        res = results[name]
        if res is None:
            continue
        path = out_dir / fname
        if name == "end_to_end":
            path.write_text(render(res, harder))
        else:
            path.write_text(render(res))
        written.append(path)
    results["end_to_end_harder"] = harder
    latest = max((r for r in results.values() if isinstance(r, dict)),
                 key=lambda r: r["date"], default=None)
    if latest is not None:
        path = out_dir / "performance_machine.rst"
        path.write_text(machine_fragment(latest))
        written.append(path)
    targets = targets_fragment(results)
    if targets:
        path = out_dir / "performance_targets.rst"
        path.write_text(targets)
        written.append(path)
    return written
