"""dualcam-bench end to end on a tiny export and a small pair: every suite runs and writes its results."""
from __future__ import annotations

import json

from dualcam.benchmarks.bench import main as bench
from dualcam.export.cli import main as export


def test_bench_measures_a_tiny_export_and_writes_json_markdown_and_plots(tmp_path):
    models, out = tmp_path / "models", tmp_path / "results"
    assert export(["--preset", "tiny", "--tile", "32x64", "--int8", "--calibration-scenes", "1", "--out", str(models)]) == 0
    assert bench(["--models", str(models), "--sizes", "0.1", "--budgets", "512", "--warmup", "0", "--repeats", "2",
                  "--no-reference", "--out", str(out)]) == 0
    result = json.loads((out / "bench.json").read_text())
    assert result["machine"]["cores"] >= 1 and result["machine"]["onnxruntime"]
    assert result["peaks"]["fp32_gemm_gflops"] > 0 and result["peaks"]["int8_gemm_gops"] > 0
    rows = result["tile"]["rows"]
    assert {"torch_eager_fp32", "fp32", "int8", "mobile"} <= set(rows)
    for row in rows.values():
        assert row["repeats"] == 2 and row["min_s"] <= row["median_s"] <= row["max_s"] and row["peak_rss_mb"] > 0
    profile = result["tile"]["op_profile"]
    assert profile["model"] == "int8" and 99 < sum(profile["op_share_percent"].values()) < 101
    assert any(op.startswith("QLinear") for op in profile["op_share_percent"])
    (size,) = result["pipeline"]["rows"]
    assert size["dualcam_run"]["exit"] == 0, size["dualcam_run"]
    assert set(size["dualcam_run"]["stages_s"]) >= {"read", "colorize"} and size["sgbm_gf"]["median_s"] > 0
    assert result["pipeline"]["budgets"][0]["budget_mb"] == 512
    assert result["export"]["exit"] == 0 and result["export"]["peak_rss_mb"] > 0
    assert "--int8 --ort" in result["export"]["command"]
    assert "| int8 |" in (out / "bench.md").read_text() and "Export: `dualcam-export" in (out / "bench.md").read_text()
    assert (out / "bench_tile.png").stat().st_size > 0 and (out / "bench_pipeline.png").stat().st_size > 0


def test_train_speed_compares_the_options_as_profiled_training_steps(tmp_path):
    from dualcam.benchmarks.train_speed import VARIANTS, plan, main as train_speed

    out = tmp_path / "speed.json"
    train_speed(["--variants", "bf16", "fp32, channels-last", "--preset", "tiny", "--crop", "32x64", "--batch", "2",
                 "--steps", "1", "--workers", "0", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["device"] == "cpu" and result["machine"]["cores"] >= 1
    rows = result["rows"]
    assert rows["bf16"]["options"]["bf16"] and not rows["fp32, channels-last"]["options"]["bf16"]
    assert rows["fp32, channels-last"]["options"]["channels_last"]
    assert all(r["step_seconds"] > 0 and 0 < r["batchnorm_share"] < 1 and r["finite"] for r in rows.values())
    assert "| fp32, channels-last |" in out.with_suffix(".md").read_text()
    fastest = min(rows, key=lambda name: rows[name]["step_seconds"])
    iters = int(0.85 * 60 * 2 / rows[fastest]["step_seconds"])
    assert plan(result, minutes=2) == ["--iters", str(iters), *VARIANTS[fastest]]
    train_speed(["--variants", "fp32", "--threads", "1", "2", "--preset", "tiny", "--crop", "32x64", "--batch", "2",
                 "--steps", "1", "--workers", "0", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert list(rows) == ["fp32, 1 thread", "fp32, 2 threads"] and rows["fp32, 2 threads"]["threads"] == 2
    fastest = min(rows, key=lambda name: rows[name]["step_seconds"])
    assert plan({"rows": rows}, minutes=2)[2:] == ["--no-bf16", "--threads", str(rows[fastest]["threads"])]


def test_planner_memory_fit_bounds_every_run_and_recovers_a_linear_peak():
    from dualcam.benchmarks.planner_memory import HEADROOM, fit, fitted_estimate
    from dualcam.runtime.planner import BASE_MB

    mb = 2**20

    def row(case: str, role: str, arena: bool, pixels: int, tile_pixels: int, session_kb: float) -> dict:
        working = pixels if case == "worst" else pixels // 9  # at working scale 1, and at a third
        peak = BASE_MB + (pixels * 20 + working * 30) / mb + tile_pixels * session_kb / 1024
        return {"case": case, "role": role, "arena": arena, "pixels": pixels, "working_pixels": working,
                "tile_pixels": tile_pixels, "peak_rss_mb": round(peak)}

    rows = [row(case, "int8", arena, px, tile, 5.0 if arena else 2.0) for case in ("worst", "far")
            for arena in (True, False) for px, tile in ((3_000_000, 240 * 512), (12_000_000, 256 * 576))]
    rows += [row("worst", "fp32", True, 3_000_000, 240 * 512, kb) for kb in (20.0, 21.0)]
    rows.append(row("sample", "int8", True, 12_000_000, 192 * 464, 9.0))  # not a fitted case: left out
    fitted = fit(rows)
    assert abs(fitted["least_squares"][0] - 20) < 0.5 and abs(fitted["least_squares"][1] - 30) < 0.5
    assert fitted["full_res_bytes_per_pixel"] in (20, 21) and fitted["working_bytes_per_pixel"] in (30, 31)
    session = fitted["session_kb_per_tile_pixel"]
    assert session["fp32,True"] >= 21.0 * HEADROOM > session["fp32,True"] - 0.6  # the larger run, with headroom
    result = {"base_mb": BASE_MB, "fitted": fitted}
    for r in rows[:-1]:
        assert fitted_estimate(result, r) >= r["peak_rss_mb"]
