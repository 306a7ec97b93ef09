"""bench.json -> bench.md (tables) and PNG plots (matplotlib, the `bench` extra)."""
from __future__ import annotations

import json
from pathlib import Path

QUALITY = Path(__file__).resolve().parent / "results" / "quality.json"


def tile_table(result: dict) -> list[str]:
    tile, peaks = result["tile"], result["peaks"]
    torch_s = tile["rows"]["torch_eager_fp32"]["median_s"]
    lines = [f"Per tile ({tile['tile']}, {tile['gflop_per_tile']} GFLOP of the reference network per tile; "
             f"peaks measured in this run: fp32 GEMM {peaks['fp32_gemm_gflops']} GFLOP/s, "
             f"int8 GEMM {peaks['int8_gemm_gops']} GOP/s)", "",
             "| configuration | graph | median s | min | max | vs torch eager | effective GFLOP/s | % fp32 peak | % int8 peak | peak RSS MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in tile["rows"].items():
        rate = row["gflops_effective"]
        lines.append(f"| {name} | {row.get('graph') or ''} | {row['median_s']:.3f} | {row['min_s']:.3f} | {row['max_s']:.3f} | "
                     f"{torch_s / row['median_s']:.2f}x | {rate:.0f} | {100 * rate / peaks['fp32_gemm_gflops']:.0f} % | "
                     f"{100 * rate / peaks['int8_gemm_gops']:.1f} % | {row['peak_rss_mb']:.0f} |")
    if "op_profile" in tile:
        profile = tile["op_profile"]
        shares = ", ".join(f"{op} {share} %" for op, share in list(profile["op_share_percent"].items())[:8])
        lines += ["", f"The {profile['model']} tile by operator (onnxruntime's profiler, kernel time after its fusions, "
                      f"{profile['repeats']} runs): {shares}."]
    return lines


def pipeline_tables(result: dict) -> list[str]:
    pipe = result["pipeline"]
    stages = list(dict.fromkeys(s for row in pipe["rows"] if row["dualcam_run"]["exit"] == 0
                                for s in row["dualcam_run"]["stages_s"]))  # in the order dualcam-run reports them
    lines = [f"Whole pipeline (`dualcam-run`, default model, budget {pipe['default_budget_mb']} MB; `sgbm_gf` at full "
             "resolution searching the measured disparity range; s wall)", "",
             "| pair | MP | size | dualcam-run s | " + " | ".join(stages) + " | tiles | chroma scale | peak RSS MB | sgbm_gf s | ratio |",
             "|---|---:|---|---:|" + "---:|" * len(stages) + "---:|---:|---:|---:|---:|"]
    for row in pipe["rows"]:
        run = row["dualcam_run"]
        if run["exit"]:
            lines.append(f"| {row['pair']} | {row['megapixels']} | {row['size']} | exit {run['exit']}: {run['error']} |")
            continue
        sgbm = row.get("sgbm_gf", {})
        lines.append(f"| {row['pair']} | {row['megapixels']} | {row['size']} | {run['seconds']:.2f} | "
                     + " | ".join(f"{run['stages_s'].get(s, 0):.2f}" for s in stages)
                     + f" | {run['tiles']} | {run['chroma_scale']} | {run['peak_rss_mb']} | "
                     f"{sgbm.get('median_s', float('nan')):.2f} | {row.get('dualcam_over_sgbm_gf', '')} |")
    lines += ["", "Memory budgets (largest size)", "", "| pair | MP | budget MB | exit | s | peak RSS MB | estimated MB | arena |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in pipe["budgets"]:
        if row["exit"]:
            lines.append(f"| {row['pair']} | {row['megapixels']} | {row['budget_mb']} | {row['exit']} | refused: {row['error']} | | | |")
        else:
            lines.append(f"| {row['pair']} | {row['megapixels']} | {row['budget_mb']} | 0 | {row['seconds']:.2f} | "
                         f"{row['peak_rss_mb']} | {row['estimated_peak_mb']} | {row['memory_arena']} |")
    return lines


def write_report(result: dict, out: Path) -> None:
    machine = result["machine"]
    lines = ["# dualcam-bench", "", f"`{result['command']}` on {machine['cpu']}, {machine['cores']} cores "
             f"({', '.join(machine['isa'])}), onnxruntime {machine.get('onnxruntime')}, torch {machine.get('torch', '-')}; "
             f"load average {machine.get('load_average_1min_at_start')} at the start (other work shares this machine: "
             "compare ratios within one run).", ""]
    lines += tile_table(result)
    if "pipeline" in result:
        lines += [""] + pipeline_tables(result)
    if "export" in result:
        run = result["export"]
        lines += ["", f"Export: `{run['command']} --out DIR` exit {run['exit']}, {run['seconds']:.0f} s, "
                      f"peak RSS {run['peak_rss_mb']} MB."]
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    plot(result, out)


def plot(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["tile"]["rows"]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(list(rows), [r["median_s"] for r in rows.values()],
            xerr=[[r["median_s"] - r["min_s"] for r in rows.values()], [r["max_s"] - r["median_s"] for r in rows.values()]])
    ax.set_xlabel(f"seconds per {result['tile']['tile']} tile (median, min-max)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(out / "bench_tile.png", dpi=100)
    plt.close(fig)
    if "pipeline" not in result:
        return
    ok = [r for r in result["pipeline"]["rows"] if r["dualcam_run"]["exit"] == 0 and "sgbm_gf" in r]
    if not ok:
        return
    mp = [r["megapixels"] for r in ok]
    fig, (time_ax, rss_ax, stage_ax) = plt.subplots(1, 3, figsize=(15, 4))
    time_ax.plot(mp, [r["dualcam_run"]["seconds"] for r in ok], "o-", label="dualcam-run")
    time_ax.plot(mp, [r["sgbm_gf"]["median_s"] for r in ok], "s-", label="sgbm_gf")
    time_ax.set(xlabel="megapixels", ylabel="seconds", title="latency")
    time_ax.legend()
    rss_ax.plot(mp, [r["dualcam_run"]["peak_rss_mb"] for r in ok], "o-", label="dualcam-run")
    rss_ax.plot(mp, [r["sgbm_gf"]["peak_rss_mb"] for r in ok], "s-", label="sgbm_gf")
    rss_ax.set(xlabel="megapixels", ylabel="peak RSS MB", title="memory")
    rss_ax.legend()
    bottom = [0.0] * len(ok)
    for stage in ok[0]["dualcam_run"]["stages_s"]:
        heights = [r["dualcam_run"]["stages_s"].get(stage, 0) for r in ok]
        stage_ax.bar([str(m) for m in mp], heights, bottom=bottom, label=stage)
        bottom = [b + h for b, h in zip(bottom, heights)]
    stage_ax.set(xlabel="megapixels", ylabel="seconds", title="dualcam-run stages")
    stage_ax.legend()
    fig.tight_layout()
    fig.savefig(out / "bench_pipeline.png", dpi=100)
    plt.close(fig)
    plot_quality(result, out, plt)


def plot_quality(result: dict, out: Path, plt) -> None:
    """CPSNR on the dev pairs (Setup 1, paper layout) against the time measured in this run on the pair
    nearest 1 MP: dualcam-run's int8 and fp32 models (their tiled CPSNR from the export manifest) and
    sgbm_gf (benchmarks/results/quality.json)."""
    one = min(result["pipeline"]["rows"], key=lambda r: abs(r["megapixels"] - 1))
    tiled = result.get("tiled_cpsnr")
    if not QUALITY.is_file() or not tiled or one["dualcam_run"]["exit"] or "sgbm_gf" not in one:
        return
    quality = json.loads(QUALITY.read_text())
    methods = next(r["methods"] for r in quality["reports"] if r["setup"] == 1 and r["layout"] == "paper")
    points = {"dualcam-run int8": (one["dualcam_run"]["seconds"], tiled["setup1"]["int8"]),
              "sgbm_gf": (one["sgbm_gf"]["median_s"], methods["sgbm_gf"]["mean"]["cpsnr"])}
    if one.get("dualcam_run_fp32", {}).get("exit") == 0:
        points["dualcam-run fp32"] = (one["dualcam_run_fp32"]["seconds"], tiled["setup1"]["fp32"])
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (seconds, cpsnr) in points.items():
        ax.scatter(seconds, cpsnr)
        ax.annotate(label, (seconds, cpsnr), textcoords="offset points", xytext=(5, 5))
    ax.set(xlabel=f"seconds on the {one['megapixels']} MP pair (this run)", ylabel="dev CPSNR dB (Setup 1)",
           title="quality vs time")
    fig.tight_layout()
    fig.savefig(out / "bench_quality.png", dpi=100)
    plt.close(fig)
