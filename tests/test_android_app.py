"""android_demo's app side: the APK built without Gradle, and the on-device benchmark's reading of adb and logcat.

No phone here: device_bench.py's decisions are pure functions of what adb and logcat print, tested on outputs in
android_demo/tools/testdata/ (their provenance is in android_demo/README.md), and its loop runs against a fake adb
that replays them.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANDROID = ROOT / "android_demo"
BENCH = ANDROID / "tools" / "device_bench.py"
TESTDATA = BENCH.parent / "testdata"
SERIAL = "37281FDJH00A2K"
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
    rows = device_bench.parse((TESTDATA / "logcat_bench_desktop.txt").read_text())
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


def test_a_long_line_logged_in_pieces_is_joined_back():
    # Written by core's Benchmark.logEntries, as the app logs an error line longer than one logcat entry.
    log = (TESTDATA / "logcat_split_error.txt").read_text()
    assert len(log.splitlines()) == 4 and all(len(line) < 1100 for line in log.splitlines())
    [row] = device_bench.parse(log)
    assert row["provider"] == "nnapi" and row["error"].startswith("NNAPI could not run the model: OrtException: Error code - ORT_FAIL")
    assert "/refine/Conv_119" in row["error"] and row["error"].endswith("; choose XNNPACK instead")
    without_a_piece = "\n".join(line for line in log.splitlines() if "PART 2/3" not in line)
    [row] = device_bench.parse(without_a_piece)  # logcat dropped an entry: said so, not a traceback
    assert row["provider"] == "nnapi" and row["error"].startswith("an unreadable benchmark line (pieces of it missing in logcat)")
    [row] = device_bench.parse('I/DualcamBench: DUALCAM_BENCH_ERROR {"provider": "xnnpack", "error": "Error code - ORT')
    assert row["provider"] == "xnnpack" and row["error"].startswith("an unreadable benchmark line (cut short in logcat?)")


def test_crashes_and_kills_are_told_apart_in_one_line():
    native = (TESTDATA / "logcat_native_crash.txt").read_text()
    said = "the app crashed in native code: SIGSEGV in libonnxruntime.so (the tombstone: adb bugreport)"
    assert device_bench.crash(native) == device_bench.crash(native, pid=12345) == said
    assert device_bench.crash(native, pid=999) is None  # another process of the app (the one force-stopped before)
    java = device_bench.crash((TESTDATA / "logcat_java_crash.txt").read_text(), pid=23456)
    assert java == ("the app crashed: java.lang.RuntimeException: Unable to start activity ComponentInfo{dev.dualcam.app/"
                    "dev.dualcam.app.MainActivity}: java.lang.UnsatisfiedLinkError: dlopen failed: library \"libonnxruntime.so\" not found")
    lmk = (TESTDATA / "logcat_lmk_kill.txt").read_text()
    assert device_bench.crash(lmk, pid=34567) == "the low-memory killer ended the app: the phone ran out of memory for it"
    died = "I/ActivityManager: Process dev.dualcam.app (pid 45678) has died: fg  TOP\n"
    assert device_bench.crash(died, pid=45678) == "the app's process died without a result line (fg  TOP)"

    assert device_bench.verdict("nnapi", native, 12345, alive=False) == {"provider": "nnapi", "error": said}
    assert device_bench.verdict("cpu", "", 12345, alive=True) is None  # still running: wait
    assert device_bench.verdict("cpu", "", 12345, alive=False)["error"].startswith("the app's process ended without a result line")
    result = "I/DualcamBench: " + (TESTDATA / "logcat_bench_desktop.txt").read_text().splitlines()[1] + "\n"
    assert device_bench.verdict("cpu", result + died, 45678, alive=False)["median"] == 6.8121  # its line counts, not the death after


def test_phone_problems_say_what_to_do():
    two = (TESTDATA / "adb_devices_two.txt").read_text()
    assert device_bench.serials(two) == [SERIAL, "emulator-5554"]
    assert device_bench.device_problem(0, "device\n", "", "", SERIAL) is None
    assert device_bench.device_problem(1, "", "adb: more than one device/emulator\n", two, None) == \
        f"several devices attached ({SERIAL}, emulator-5554): choose one with -s SERIAL"
    assert device_bench.device_problem(1, "", "error: device 'X1' not found\n", two, "X1") == \
        f"no device X1: adb sees {SERIAL}, emulator-5554"
    unauthorized = "error: device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set\n"
    assert "accept the prompt" in device_bench.device_problem(1, "", unauthorized, f"List of devices attached\n{SERIAL}\tunauthorized\n", None)

    refused = (TESTDATA / "adb_install_incompatible.txt").read_text()
    assert device_bench.install_problem(1, refused, SERIAL) == (
        "the phone has dev.dualcam.app signed with another key (INSTALL_FAILED_UPDATE_INCOMPATIBLE): "
        f"remove it with `adb -s {SERIAL} uninstall dev.dualcam.app` (its pushed models go with it) and run again")
    assert "`adb uninstall dev.dualcam.app`" in device_bench.install_problem(1, refused, None)
    older = device_bench.install_problem(1, (TESTDATA / "adb_install_older_sdk.txt").read_text(), None)
    assert older.startswith("adb could not install the APK: INSTALL_FAILED_OLDER_SDK: ") and older.endswith("(current version is #26)")
    assert device_bench.install_problem(0, "Performing Streamed Install\nSuccess\n", None) is None
    assert device_bench.start_problem((TESTDATA / "am_start_not_installed.txt").read_text()) == \
        "the app did not start: Error: Activity class {dev.dualcam.app/dev.dualcam.app.MainActivity} does not exist."
    assert device_bench.start_problem("Starting: Intent { cmp=dev.dualcam.app/.MainActivity (has extras) }\nStatus: ok\n") is None


FAKE_ADB = """\
#!{python}
# adb as a phone that crashes in native code answers; every call is logged, the process dies after its first pidof.
import sys
from pathlib import Path
here = Path(__file__).parent
with open(here / "calls.txt", "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:2] != ["-s", "{serial}"]:
    if args == ["devices"]:
        print(Path("{testdata}/adb_devices_two.txt").read_text(), end="")
        sys.exit(0)
    print("adb: more than one device/emulator", file=sys.stderr)
    sys.exit(1)
args = args[2:]
if args == ["get-state"]:
    print("device")
elif args[:2] == ["shell", "getprop"]:
    print({{"ro.product.model": "Pixel 8", "ro.soc.model": "Tensor G3", "ro.build.version.release": "14"}}[args[2]])
elif args[0] == "install":
    print(Path("{testdata}/adb_install_incompatible.txt").read_text(), end="", file=sys.stderr)
    sys.exit(1)
elif args[:3] == ["shell", "am", "start"]:
    print("Starting: Intent {{ cmp=dev.dualcam.app/.MainActivity (has extras) }}\\nStatus: ok")
elif args[:2] == ["shell", "pidof"]:
    seen = here / "pidof_seen"
    if seen.exists():
        seen.unlink()
        sys.exit(1)
    seen.touch()
    print("12345")
elif args[:2] == ["logcat", "-d"]:
    print(Path("{testdata}/logcat_native_crash.txt").read_text(), end="")
"""


def test_on_a_phone_that_crashes_each_provider_ends_in_seconds_with_one_line(tmp_path):
    fake = tmp_path / "adb"
    fake.write_text(FAKE_ADB.format(python=sys.executable, serial=SERIAL, testdata=TESTDATA))
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/bin:/bin")
    done = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stderr == \
        f"device_bench: several devices attached ({SERIAL}, emulator-5554): choose one with -s SERIAL\n"
    done = subprocess.run([sys.executable, str(BENCH), "-s", SERIAL, "--apk", "app-debug.apk"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"`adb -s {SERIAL} uninstall dev.dualcam.app`" in done.stderr

    (tmp_path / "calls.txt").unlink()
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(BENCH), "-s", SERIAL, "--providers", "nnapi,xnnpack"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert time.monotonic() - start < 20  # not the 600 s it waited for a line that never comes
    assert done.returncode == 1, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.startswith("Pixel 8 (Tensor G3), Android 14, models ")
    assert rows == [f"{p + '/-':20} failed: the app crashed in native code: SIGSEGV in libonnxruntime.so (the tombstone: adb bugreport)"
                    for p in ("nnapi", "xnnpack")]
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert all(call.startswith(f"-s {SERIAL} ") for call in calls)
    assert any(call.startswith(f"-s {SERIAL} logcat -d -v tag DualcamBench:I") for call in calls)
