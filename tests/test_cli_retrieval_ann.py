"""`generec bench retrieval --ann` as a user runs it: exact against approximate recommend, JSON on stdout."""

import json

from helpers import generec


def test_bench_retrieval_ann_json():
    run = generec("bench", "retrieval", "--ann", "--latency-items", 20000, "--queries", 50, "--json")
    assert run.returncode == 0, run.stderr
    bench = json.loads(run.stdout)
    assert (bench["n_items"], bench["dim"], bench["n_queries"], bench["k"], bench["query_threads"]) == (20000, 64, 50, 10, 1)
    assert bench["clusters"] == 141 and bench["seen_per_user"] > 0
    rows = bench["rows"]
    assert [r["method"] for r in rows] == ["numpy exact (Retriever.recommend)", "flat"] + ["ivf-flat"] * 5
    assert rows[1]["exact"] and rows[1]["recall"] == 1.0  # FAISS's exact index agrees with the model's own ranking
    ivf = rows[2:]
    assert [r["params"]["nprobe"] for r in ivf] == [16, 32, 64, 128, 256] and {r["params"]["nlist"] for r in ivf} == {141}
    recalls = [r["recall"] for r in ivf]
    assert recalls == sorted(recalls) and recalls[-1] == 1.0  # more cells scan a superset; 256 ≥ nlist scans all
    assert all(r["p50_ms"] > 0 and r["p99_ms"] >= r["p50_ms"] and r["memory_mb"] > 0 for r in rows)
    met = bench["target"]["met_by"]
    assert met is None or (met["recall"] >= 0.95 and met["p50_ms"] < 10)


def test_bench_retrieval_ann_refuses_bad_input():
    run = generec("bench", "retrieval", "--ann", "--latency-items", 10)
    assert run.returncode == 1 and "--latency-items must be between 1,000 and 50,000,000, got 10" in run.stderr and "Traceback" not in run.stderr
    run = generec("bench", "retrieval", "--ann", "--latency-items", 5000, "-k", 0)
    assert run.returncode == 1 and "-k must be between 1 and a tenth of the catalogue (500), got 0" in run.stderr
    # the data-set benchmark and the --ann one take different options
    run = generec("bench", "retrieval", "--latency-items", 20000, "--queries", 50)
    assert run.returncode == 1 and "--queries applies to --ann only" in run.stderr
    run = generec("bench", "retrieval", "--ann", "--models", "ease", "--nprobe", "8,x")
    assert run.returncode == 1 and "--models applies to the data-set benchmark, not to --ann" in run.stderr
