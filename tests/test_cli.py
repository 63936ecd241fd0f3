"""The command line: the README's demo and the SVM benchmark table run end to end
(small sizes) and report what the estimators report."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, timeout=600):
    env = dict(os.environ)
    import dsdkern
    # The package the tests import (an in-place build or the installed one).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(dsdkern.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "dsdkern", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_svm_demo_agrees_with_libsvm():
    out = _run("demo", "svm", "--threads", "1")
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("dsdkern smo")]
    assert len(rows) == 3, out  # digits, breast_cancer, make_classification
    for row in rows:
        # "dsdkern smo <fit> <acc> <nSV> <agreement>%": smo reproduces LIBSVM.
        assert float(row[-1].rstrip("%")) >= 99.5, out


def test_svm_bench_table_and_json(tmp_path):
    path = tmp_path / "svm.json"
    out = _run("bench", "svm", "--sizes", "2000", "--peers", "libsvm", "--repeat", "1",
               "--threads", "1", "--json", str(path))
    assert "| make_classification | 2000 | dsdkern smo |" in out, out
    rows = {r["contender"]: r for r in json.loads(path.read_text())["rows"]}
    assert set(rows) == {"smo", "spsvm", "libsvm"}
    assert all(r["status"] == "ok" for r in rows.values()), rows
    assert abs(rows["smo"]["accuracy"] - rows["libsvm"]["accuracy"]) <= 0.005
    assert abs(rows["smo"]["n_sv"] - rows["libsvm"]["n_sv"]) <= 0.02 * rows["libsvm"]["n_sv"]
    assert rows["spsvm"]["accuracy"] >= rows["libsvm"]["accuracy"] - 0.02
    for r in rows.values():
        assert r["speedup_vs_libsvm"] == pytest.approx(rows["libsvm"]["fit_s"] / r["fit_s"])


def test_svm_bench_joins_rows_measured_apart(tmp_path):
    """gpu_check.sh's way: LIBSVM's rows from the plain script (no dsdkern import),
    dsdkern's from the CLI, joined by --rows-from with speed-ups, nothing re-run."""
    lib, ours, joined = (tmp_path / f"{name}.json" for name in ("lib", "ours", "joined"))
    script = os.path.join(ROOT, "python", "dsdkern", "bench", "svm.py")
    proc = subprocess.run([sys.executable, script, "--libsvm-rows", str(lib), "1", "1500"],
                          env=dict(os.environ, PYTHONPATH=""), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _run("bench", "svm", "--sizes", "1500", "--solvers", "smo", "--peers", "", "--repeat", "1",
         "--threads", "1", "--json", str(ours))
    out = _run("bench", "svm", "--sizes", "1500", "--solvers", "", "--peers", "",
               "--rows-from", str(ours), str(lib), "--json", str(joined))
    assert "| make_classification | 1500 | LIBSVM (sklearn) |" in out, out
    rows = {r["contender"]: r for r in json.loads(joined.read_text())["rows"]}
    assert set(rows) == {"smo", "libsvm"}
    before = {r["contender"]: r for f in (lib, ours) for r in json.loads(f.read_text())["rows"]}
    for name, r in rows.items():
        assert r["fit_s"] == before[name]["fit_s"]  # joined as measured, not re-run
        assert r["speedup_vs_libsvm"] == pytest.approx(rows["libsvm"]["fit_s"] / r["fit_s"])
    assert abs(rows["smo"]["accuracy"] - rows["libsvm"]["accuracy"]) <= 0.005
