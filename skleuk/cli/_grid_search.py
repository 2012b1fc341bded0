"""``skleuk grid-search``: search optimizer and epochs by cross-validation."""

from __future__ import annotations

import csv
import json
import os
import time

from ..utils._progress import progress_bar
from . import _data, _model
from ._common import CLIError, _err
from ._model import save_model


def cmd_grid_search(args):
    """``skleuk grid-search``: optimizer x epochs with cross-validation."""
    return _model._run_on_data(args, _grid_search)


def _grid_search(args, data, out, start):
    pipe = _model._build_pipeline(args, reader=data.is_paths)
    param_grid = {"cnn__optimizer": list(args.optimizers),
                  "cnn__epochs": list(args.epochs)}
    cv, groups = _cv_and_groups(args, data)
    chosen = _scorers(data)
    n_candidates = len(args.optimizers) * len(args.epochs)
    print(f"Data: {data.description}", flush=True)
    print(f"Grid: optimizer {args.optimizers} x epochs {args.epochs} = "
          f"{n_candidates} candidates x {args.folds} folds", flush=True)
    search = _run_search(args, data, pipe, param_grid, cv, groups, chosen,
                         n_fits=n_candidates * args.folds)
    rows = _result_rows(search.cv_results_, chosen)
    best = search.best_params_
    csv_path, json_path = _write_results(out, args, data, rows, chosen, best)
    model_path = os.path.join(out, "best_model.joblib")
    save_model(search.best_estimator_, model_path, target_names=data.target_names,
               input_kind="paths" if data.is_paths else "images",
               extra={"data": data.description,
                      "grid_search": {"optimizer": best["cnn__optimizer"],
                                      "epochs": best["cnn__epochs"]}},
               overwrite=True)
    _print_table(rows)
    print(f"Best: optimizer {best['cnn__optimizer']}, epochs {best['cnn__epochs']} "
          f"(accuracy {search.best_score_:.3f}); refitted on all images.")
    print(f"Wrote {csv_path}, {json_path} and {model_path}. Done in "
          f"{time.perf_counter() - start:.0f} s.")
    return 0


def _cv_and_groups(args, data):
    """The (grouped) stratified folds and the groups they keep together."""
    from ..model_selection import make_stratified_cv

    try:
        return make_stratified_cv(
            data.X, data.y, n_splits=args.folds, groups=data.groups,
            group_duplicates=args.group_duplicates,
            random_state=args.random_state,
        )
    except ValueError as exc:
        raise CLIError(f"--folds {args.folds}: {exc}") from None


def _scorers(data):
    """Accuracy, ROC AUC, sensitivity and specificity scorers for ``data``."""
    from ..metrics import get_scorers

    if len(data.target_names) > 2:
        # Multi-class: macro averages and one-vs-rest ROC AUC, as evaluate.
        scorers = get_scorers(average="macro")
    else:
        roles = _data._roles(data.target_names, data.pos_label)
        if roles.assumed:
            _err("warning: no class is named like leukaemia or healthy; the "
                 "positive class is assumed to be "
                 f"{data.target_names[roles.pos_label]!r} (choose it with "
                 "--positive-class)")
        scorers = get_scorers(pos_label=roles.pos_label)
    return {k: scorers[k] for k in ("accuracy", "roc_auc", "sensitivity",
                                    "specificity")}


def _run_search(args, data, pipe, param_grid, cv, groups, chosen, n_fits):
    """Fit the GridSearchCV (refit on accuracy), with a progress bar."""
    from sklearn.model_selection import GridSearchCV

    n_jobs = getattr(args, "n_jobs", 1)
    # The bar counts fits in this process: with worker processes the
    # scorer runs there, so there is no bar (the search prints nothing).
    bar = progress_bar(n_fits, "grid search", "fit",
                       enabled=not args.quiet and n_jobs == 1)

    def scoring(estimator, X, y):
        scores = {k: s(estimator, X, y) for k, s in chosen.items()}
        if bar is not None:
            bar.set_postfix(acc=f"{scores['accuracy']:.3f}", refresh=False)
            bar.update(1)
        return scores

    search = GridSearchCV(pipe, param_grid, scoring=scoring, refit="accuracy",
                          cv=cv, error_score="raise", n_jobs=n_jobs)
    try:
        search.fit(data.X, data.y, groups=groups)
    finally:
        if bar is not None:
            bar.close()
    return search


def _result_rows(res, chosen):
    """One dict per candidate from ``cv_results_``, best first."""
    rows = []
    for i, params in enumerate(res["params"]):
        row = {"optimizer": params["cnn__optimizer"], "epochs": params["cnn__epochs"]}
        for k in chosen:
            row[f"mean_{k}"] = float(res[f"mean_test_{k}"][i])
            row[f"std_{k}"] = float(res[f"std_test_{k}"][i])
        row["rank_accuracy"] = int(res["rank_test_accuracy"][i])
        row["mean_fit_time_s"] = float(res["mean_fit_time"][i])
        rows.append(row)
    rows.sort(key=lambda r: (r["rank_accuracy"], -r["mean_roc_auc"]))
    return rows


def _write_results(out, args, data, rows, chosen, best):
    """Write grid_search_results.csv and .json; return their paths."""
    csv_path = os.path.join(out, "grid_search_results.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    json_path = os.path.join(out, "grid_search_results.json")
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(
            {"data": data.description, "folds": args.folds,
             "scoring": list(chosen), "refit": "accuracy",
             "best_params": {"optimizer": best["cnn__optimizer"],
                             "epochs": best["cnn__epochs"]},
             "results": rows},
            fh, indent=1,
        )
    return csv_path, json_path


def _print_table(rows):
    """Print the candidates as an aligned table (mean ± std per score)."""
    header = ["optimizer", "epochs", "accuracy", "ROC AUC", "sensitivity",
              "specificity", "rank"]
    lines = []
    for r in rows:
        lines.append([
            str(r["optimizer"]), str(r["epochs"]),
            f"{r['mean_accuracy']:.3f} ± {r['std_accuracy']:.3f}",
            f"{r['mean_roc_auc']:.3f} ± {r['std_roc_auc']:.3f}",
            f"{r['mean_sensitivity']:.3f} ± {r['std_sensitivity']:.3f}",
            f"{r['mean_specificity']:.3f} ± {r['std_specificity']:.3f}",
            str(r["rank_accuracy"]),
        ])
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
