"""Writes the training demo's results: report.md (tables), report.json (the same numbers,
for tools and tests) and the PNG plots it links, into one folder."""
import json
import os
import platform
import statistics
import time


def _mean_std(values):
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _pm(values, scale=100.0):
    mean, std = _mean_std(values)
    return f"{scale * mean:.2f} ± {scale * std:.2f}"


def _plot_han_layers(path, han_results):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.8 / len(han_results)
    for i, r in enumerate(han_results):
        names = list(r["layers"])
        ax.bar([j + i * width for j in range(len(names))], list(r["layers"].values()), width,
               label=f"{r['data']} ({r['kept']:.1%} kept overall)")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
    ax.set_ylabel("kept fraction of the layer's weights")
    ax.set_title("LeNet-300-100 after Han prune-and-retrain")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_dsd(path, dsd):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = range(1, len(dsd["runs"][0]["dsd"]) + 1)
    for key, label in (("baseline", "dense baseline"), ("dsd", "DSD")):
        per_epoch = list(zip(*(r[key] for r in dsd["runs"])))
        stats = [_mean_std(accs) for accs in per_epoch]
        mean = [m for m, _ in stats]
        ax.plot(epochs, mean, label=f"{label} (mean of {len(dsd['runs'])} seeds)")
        ax.fill_between(epochs, [m - s for m, s in stats], [m + s for m, s in stats], alpha=0.25)
    e_dense, e_sparse, _ = dsd["epochs"]
    for edge in (e_dense + 0.5, e_dense + e_sparse + 0.5):
        ax.axvline(edge, color="k", linestyle=":")
    ax.set_xlabel(f"epoch (dotted: DSD goes sparse, then re-dense at {dsd['lr_factor']:g}× "
                  "the learning rate)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"DSD vs dense, LeNet-5-shaped CNN, {dsd['data']} (band: ± 1 std)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _han_section(r, sensitivity_png):
    lines = [f"### {r['data']}", "",
             f"Test accuracy dense {r['dense_accuracy']:.4f}, after pruning and retraining "
             f"{r['pruned_accuracy']:.4f}; {r['kept']:.2%} of the weights kept, "
             f"compression {r['compression']:.1f}× (dense weights / kept weights).", "",
             "| round | quality | kept overall | test accuracy after retraining |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {i + 1} | {x['quality']:.2f} | {x['kept']:.2%} | {x['accuracy']:.4f} |"
              for i, x in enumerate(r["rounds"])]
    lines += ["", "| layer | " + " | ".join(r["layers"]) + " |",
              "| --- |" + " --- |" * len(r["layers"]),
              "| kept fraction | " + " | ".join(f"{v:.2%}" for v in r["layers"].values()) + " |",
              "", "Sensitivity of the dense net (test accuracy with one layer pruned by "
              "magnitude at a time; baseline: the dense net's):", "",
              r["sensitivity"].to_markdown(), "", f"![sensitivity]({sensitivity_png})", ""]
    return lines


def _dsd_section(dsd, plot_png):
    e_dense, e_sparse, e_redense = dsd["epochs"]
    phase_end = {"dense": e_dense, "sparse": e_dense + e_sparse,
                 "re-dense": e_dense + e_sparse + e_redense}
    runs = dsd["runs"]
    gain = [r["dsd"][-1] - r["baseline"][-1] for r in runs]
    lines = [f"Epochs: dense {e_dense}, sparse {e_sparse} (sparsity {dsd['sparsity']:.0%}, "
             f"conv1 left dense), re-dense {e_redense} at {dsd['lr_factor']:g}× the learning rate; the "
             f"baseline shares the dense phase and trains on densely for {e_sparse + e_redense} "
             "epochs with the same learning-rate drop. Test accuracy in %, mean ± std over "
             f"{len(runs)} seed(s):", "",
             "| | after dense | after sparse | after re-dense (final) |", "| --- | --- | --- | --- |"]
    for key, label in (("dsd", "DSD"), ("baseline", "dense baseline")):
        lines.append(f"| {label} | " + " | ".join(
            _pm([r[key][end - 1] for r in runs]) for end in phase_end.values()) + " |")
    lines += ["", "| seed | DSD final | baseline final | DSD − baseline |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {r['dsd'][-1]:.4f} | {r['baseline'][-1]:.4f} | {g:+.4f} |"
              for r, g in zip(runs, gain)]
    mean, std = _mean_std(gain)
    lines += ["", f"DSD − baseline, final test accuracy: {100 * mean:+.2f} ± {100 * std:.2f} "
              f"points over {len(runs)} seed(s)."
              + (" The difference is within one standard deviation of zero."
                 if abs(mean) <= std else ""), "",
              "Kept fraction per layer in the sparse phase: " + ", ".join(
                  f"{k} {v:.0%}" for k, v in runs[0]["sparse_layers"].items()), "",
              f"![DSD accuracy across the phases]({plot_png})", ""]
    return lines


def write_report(out, command, cfg, han_results, dsd, timings, threads):
    """Writes out/report.md, out/report.json and the plots; returns report.md's path."""
    import matplotlib
    matplotlib.use("Agg")
    import torch

    os.makedirs(out, exist_ok=True)
    _plot_han_layers(os.path.join(out, "han_layers.png"), han_results)
    _plot_dsd(os.path.join(out, "dsd_accuracy.png"), dsd)
    lines = ["# dsdkern masked-training demo", "",
             f"`{command}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {platform.machine()}, "
             f"{os.cpu_count()} cores, torch {torch.__version__}, {threads} thread(s). "
             "Wall time (CPU time of this process): " + ", ".join(
                 f"{k} {wall:.0f} s ({cpu:.0f} s)" for k, (wall, cpu) in timings.items())
             + ".", "",
             "## Han prune-and-retrain, LeNet-300-100 (inputs → 300 → 100 → classes)", "",
             f"SGD (momentum 0.9, lr {cfg.han_lr}, batch {cfg.batch_size}) for "
             f"{cfg.han_epochs} epochs; "
             "then rounds of `dsdkern.prune.iterative(model, \"std\", [quality], retrain)` "
             "(a weight is pruned when |w| < quality × std of its layer's weights; "
             f"retraining {cfg.retrain_epochs} epochs at lr {cfg.retrain_lr}) with rising "
             "quality until "
             "at most 10 % of the weights are left.", "",
             "![kept fraction per layer](han_layers.png)", ""]
    for r in han_results:
        png = f"sensitivity_{r['data'].lower().replace('-', '')}.png"
        r["sensitivity"].plot(os.path.join(out, png))
        lines += _han_section(r, png)
    lines += [f"## Dense-Sparse-Dense vs a dense baseline, LeNet-5-shaped CNN on {dsd['data']}",
              "", "conv(1→6, 1×5) → pool → conv(6→16, 1×5) → pool → 120 → 84 → 10, "
              "MaskedConv2d / MaskedLinear; SGD (momentum 0.9, lr "
              f"{dsd['lr']}, batch {cfg.batch_size}).", ""]
    lines += _dsd_section(dsd, "dsd_accuracy.png")
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    numbers = {"han": [{k: v for k, v in r.items() if k != "sensitivity"}
                       | {"sensitivity": {"baseline": r["sensitivity"].baseline,
                                          "table": r["sensitivity"].table}}
                       for r in han_results],
               "dsd": dsd, "threads": threads,
               "timings_s": {k: {"wall": wall, "cpu": cpu} for k, (wall, cpu) in timings.items()}}
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(numbers, f, indent=1)
    return path
