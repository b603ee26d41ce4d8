"""The decision for one request stays under 1 ms at p99 (bench/geo_decision.py, fewer calls)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "geo_decision.py"


def test_geo_decision_p99_under_one_millisecond(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_geo_decision", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.run(iterations=20_000, mmdb_dir=tmp_path)
    assert set(report["results"]) == {
        f"{backend}.{scenario}"
        for backend in ("mmdb", "bundled")
        for scenario in ("decision_warm", "decision_cold", "middleware")
    }
    for name, row in report["results"].items():
        assert row["p99_us"] < 1000, (name, row)
