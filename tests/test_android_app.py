"""android_demo's app side: the APK built without Gradle, and the on-device benchmark's reader."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANDROID = ROOT / "android_demo"
BENCH = ANDROID / "tools" / "device_bench.py"
sys.path.insert(0, str(BENCH.parent))
import device_bench  # noqa: E402


def test_make_apk_builds_a_signed_apk_with_the_activity_and_the_models():
    done = subprocess.run(["make", "-s", "-C", str(ANDROID), "apk", f"PY={sys.executable}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "package: name='dev.dualcam.app'" in done.stdout
    assert "launchable-activity: name='dev.dualcam.app.MainActivity'" in done.stdout
    assert "Signer #1 certificate DN: CN=Android Debug" in done.stdout


def test_benchmark_lines_of_a_recorded_run_become_the_table():
    # Recorded with the desktop JVM build's benchmark mode, which prints the app's lines through the same core code.
    rows = device_bench.parse((BENCH.parent / "testdata" / "logcat_bench_desktop.txt").read_text())
    assert [r["provider"] for r in rows] == ["cpu", "xnnpack"]
    assert rows[0]["model"] == "int8_ort" and rows[0]["repeats"] == 3 and rows[0]["min"] <= rows[0]["median"] <= rows[0]["max"]
    assert "xnnpack is not in this onnxruntime build" in rows[1]["error"]
    lines = device_bench.table(rows).splitlines()
    assert lines[0].startswith("cpu/int8_ort") and "s/tile" in lines[0] and "peak RSS" in lines[0]
    assert lines[1].startswith("xnnpack/-") and "failed:" in lines[1]


def test_without_adb_or_a_phone_it_stops_with_one_line(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no adb on the PATH
    done = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("device_bench: adb not found")
    fake_adb = tmp_path / "adb"  # an adb that answers as the real one does with nothing attached
    fake_adb.write_text("#!/bin/sh\necho 'error: no devices/emulators found' >&2\nexit 1\n")
    fake_adb.chmod(0o755)
    done = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stderr == "device_bench: no device: adb sees none (error: no devices/emulators found)\n"
