"""Pipeline overhead: ``pipeline.predict`` against the bare Keras model.

A pipeline is fitted (briefly: the weights do not matter for speed) on the
260 synthetic ALL-IDB2-sized images. Then, interleaved:

* ``pipeline.predict`` on the raw uint8 images;
* each step's ``transform`` in turn, and the classifier's ``predict`` on the
  preprocessed images (their sum is what the pipeline must cost);
* the bare Keras model's ``predict`` on the already-preprocessed arrays
  (what the network costs without skleuk and SciKeras around it).
"""

from __future__ import annotations

import statistics
import time

from ._common import compare, print_table


def measure(X, y, architecture, size, epochs=1, repeat=5):
    """Measure the overhead of one fitted ``make_pipeline``; return its row."""
    from skleuk import make_pipeline

    pipe = make_pipeline(image_size=size, architecture=architecture,
                         cnn__epochs=epochs, cnn__random_state=0)
    pipe.fit(X, y)
    clf = pipe[-1]
    Xpre = pipe[:-1].transform(X)
    step_times = {name: [] for name, _ in pipe.steps}

    def by_steps():
        Z = X
        for name, step in pipe.steps:
            start = time.perf_counter()
            Z = step.predict(Z) if name == "cnn" else step.transform(Z)
            step_times[name].append(time.perf_counter() - start)
        return Z

    t = compare({
        "pipeline": lambda: pipe.predict(X),
        "steps": by_steps,
        "classifier": lambda: clf.predict(Xpre),
        "keras": lambda: clf.model_.predict(
            Xpre, batch_size=clf.batch_size, verbose=0
        ),
    }, repeat=repeat)
    # The first call of by_steps was the untimed warm-up round.
    steps = {k: statistics.median(v[1:]) for k, v in step_times.items()}
    total = sum(steps.values())
    med = {k: v["median"] for k, v in t.items()}
    return {
        "architecture": architecture,
        "size": size,
        "n_images": len(X),
        "pipeline_predict_s": med["pipeline"],
        "sum_of_steps_s": med["steps"],
        "classifier_predict_s": med["classifier"],
        "keras_predict_s": med["keras"],
        "step_s": steps,
        "step_share": {k: v / total for k, v in steps.items()},
        "pipeline_over_steps": med["pipeline"] / med["steps"],
        "classifier_over_keras": med["classifier"] / med["keras"],
        "pipeline_over_keras": med["pipeline"] / med["keras"],
    }


def run(X, y, configs, epochs=1, repeat=5):
    """Measure the overhead for every ``(architecture, size)`` in ``configs``."""
    out = []
    for arch, size in configs:
        row = measure(X, y, arch, size, epochs=epochs, repeat=repeat)
        out.append(row)
        print(f"  {arch}@{size}: pipeline.predict {row['pipeline_predict_s']:.2f} s, "
              f"Keras predict {row['keras_predict_s']:.2f} s", flush=True)
    return out


def print_results(rows):
    """Print the overhead and step-share tables."""
    print_table(
        ["network", "pipeline.predict s", "sum of steps s", "classifier.predict s",
         "Keras predict s", "pipeline / steps", "classifier / Keras"],
        [[f"{r['architecture']}@{r['size']}", f"{r['pipeline_predict_s']:.3f}",
          f"{r['sum_of_steps_s']:.3f}", f"{r['classifier_predict_s']:.3f}",
          f"{r['keras_predict_s']:.3f}", f"{r['pipeline_over_steps']:.3f}",
          f"{r['classifier_over_keras']:.3f}"] for r in rows],
        title=f"Pipeline overhead, predict on {rows[0]['n_images']} images",
    )
    names = list(rows[0]["step_share"])
    print_table(
        ["network", *names],
        [[f"{r['architecture']}@{r['size']}",
          *[f"{100 * r['step_share'][k]:.1f}%" for k in names]] for r in rows],
        title="Share of pipeline.predict time per step",
    )
