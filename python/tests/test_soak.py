"""The soak harness (scripts/soak.py) catches a leak: with a leak injected into its worker
(memory that grows, descriptors opened and never closed, threads that never end) it exits
non-zero and names what grew; a flat run passes. Its worker runs no decoding here
(``--jobs none``), so the four runs take seconds; the real jobs run in CI's 5-minute soak."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOAK = ROOT / "scripts" / "soak.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the soak measures through /proc")


def test_a_leak_fails_the_soak_and_a_flat_run_passes(tmp_path):
    runs = {}
    # All four at once: each mostly sleeps between its samples.
    for leak in (None, "rss", "fd", "thread"):
        out = tmp_path / (leak or "flat")
        cmd = [sys.executable, str(SOAK), "--jobs", "none", "--seconds", "8", "--warmup", "2",
               "--interval", "0.2", "--out", str(out)]
        if leak:
            cmd += ["--inject-leak", leak]
        runs[leak] = (out, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = {}
    for leak, (out, p) in runs.items():
        stdout, stderr = p.communicate(timeout=120)
        results[leak] = (p.returncode, stdout, stderr, json.loads((out / "summary.json").read_text()))
    code, stdout, stderr, summary = results[None]
    assert code == 0, stdout + stderr
    assert summary["passed"] and summary["figures"]["worker_fds"]["leaked"] == 0
    assert (tmp_path / "flat" / "samples.csv").stat().st_size > 0
    assert (tmp_path / "flat" / summary["plot"]).exists()
    named = {"rss": "worker rss grew", "fd": "descriptors", "thread": "threads"}
    for leak, words in named.items():
        code, stdout, stderr, summary = results[leak]
        assert code == 1, f"a {leak} leak passed the soak: {stdout}"
        assert not summary["passed"]
        assert any(words in f for f in summary["failures"]), summary["failures"]
        assert words in stderr


def test_gpu_memory_is_judged_beside_rss_at_rest():
    # GPU memory comes from the periodic samples, RSS from the rows at rest: both judged.
    # (A loop variable once swapped the samples for the rest rows, which carry no GPU
    # figure, so a GPU leak passed unseen.)
    import importlib.util

    spec = importlib.util.spec_from_file_location("soak", SOAK)
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    mib = 2**20
    samples = {"worker": [{"t": t, "rss": 100 * mib, "fds": 5, "threads": 3, "gpu": (500 + 2 * t) * mib} for t in range(100)]}
    rest = {"worker": [{"t": t, "rss": 100 * mib, "fds": 5, "threads": 3} for t in range(0, 100, 2)]}
    figures, failures = soak.check(samples, rest, [], 10, bound=0.02)
    assert "worker_gpu" in figures and figures["worker_gpu"]["growth"] > 0.2, figures
    assert any("worker gpu grew" in f for f in failures), failures
    assert "worker_rss" in figures and not any("worker rss" in f for f in failures), failures
