"""On-device latency and peak memory of the exported models, per execution provider, through the app's benchmark mode.

    python android_demo/tools/device_bench.py [-s SERIAL] [--apk app-debug.apk] [--models runtime/models]
                                              [--repeats 10] [--providers cpu,xnnpack,nnapi] [--parse LOGCAT.txt]

With a phone attached (adb, USB debugging on; -s picks one of several): installs the APK if given, pushes
manifest.json and the .ort models into the app's external files (the app prefers them to its own assets), then for
each provider starts the app's benchmark mode in a fresh process, reads its line from logcat and prints a table in
the row format of benchmarks/onnx_latency.py. A crash or a kill of the app ends that provider's wait within seconds,
with one line saying how it ended. `--parse` prints the table of a saved `adb logcat -v tag` (or `-v raw`) dump
instead. Problems with the phone itself (no adb, no or several devices, an install refused) stop it with one line
and exit code 2.

What adb and logcat print is read by pure functions (parse, crash, verdict, device_problem, install_problem,
start_problem), tested on recorded outputs in testdata/.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = "dev.dualcam.app"
ACTIVITY = f"{PACKAGE}/.MainActivity"
LOG_TAG = "DualcamBench"
RESULT, ERROR, PART = "DUALCAM_BENCH", "DUALCAM_BENCH_ERROR", "DUALCAM_BENCH_PART"
# The app's lines and the ones that tell how its process ended: a Java crash, a native crash (libc's signal line and
# the tombstone debuggerd logs), the low-memory killer, ActivityManager's death notice.
LOGCAT_FILTER = (f"{LOG_TAG}:I", "AndroidRuntime:E", "libc:F", "DEBUG:F", "lowmemorykiller:I", "ActivityManager:I", "*:S")
MODELS = Path(__file__).resolve().parents[2] / "runtime" / "models"
REMOTE_MODELS = f"/sdcard/Android/data/{PACKAGE}/files/models"
TIMEOUT_S = 600
POLL_S = 1.0

# `logcat -v tag` prints "P/Tag     : message" (the tag padded to 8); `-v raw` prints the message alone.
TAGGED = re.compile(r"^[VDIWEFS]/(?P<tag>[^:]*?)\s*: (?P<message>.*)$")


class PhoneProblem(RuntimeError):
    """No adb, not exactly one phone adb can use, or an APK the phone refuses; the message says what to do."""


def messages(log: str) -> list[tuple[str, str]]:
    """(tag, message) per logcat line; tag "" for `-v raw` lines. Split on newlines only: a message may hold U+2028."""
    out = []
    for line in log.split("\n"):
        line = line.rstrip("\r")
        match = TAGGED.match(line)
        out.append((match["tag"], match["message"]) if match else ("", line))
    return out


def bench_lines(log: str) -> list[str]:
    """The app's benchmark lines, with lines logged in pieces (`DUALCAM_BENCH_PART i/n text`) joined back."""
    lines: list[str] = []
    pieces: list[str] = []
    for tag, message in messages(log):
        if tag not in ("", LOG_TAG):
            continue
        head, _, rest = message.partition(" ")
        if head == PART:
            position, _, text = rest.partition(" ")
            index, _, total = position.partition("/")
            if index == "1":
                pieces = []
            pieces.append(text)
            if index == total:  # the last piece; if logcat dropped one, the line keeps PART as its tag for parse()
                whole = "".join(pieces)
                lines.append(whole if total.isdigit() and len(pieces) == int(total) else f"{PART} {whole}")
                pieces = []
        elif head in (RESULT, ERROR):
            lines.append(message.strip())
    return lines


def parse(log: str) -> list[dict]:
    """Benchmark lines of a logcat dump (other lines ignored) -> one dict per provider; failures carry 'error'."""
    rows = []
    for line in bench_lines(log):
        tag, _, payload = line.partition(" ")
        try:
            row = json.loads(payload) if tag != PART else None
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            provider = re.search(r'"provider": "(\w+)"', payload)
            why = "pieces of it missing in logcat" if tag == PART else "cut short in logcat?"
            row = {"provider": provider[1] if provider else "?", "error": f"an unreadable benchmark line ({why}): {payload[:80]}"}
        if tag == ERROR and "error" not in row:
            raise ValueError(f"an error line without its error: {line!r}")
        rows.append(row)
    return rows


def crash(log: str, pid: int | None = None) -> str | None:
    """How the app's process (`pid`, or any of the app's when unknown) ended, if logcat says it crashed or was killed."""
    lines = messages(log)
    pid_pattern = str(pid) if pid else r"\d+"
    for i, (tag, message) in enumerate(lines):
        if tag == "AndroidRuntime" and message.startswith("FATAL EXCEPTION"):
            following = [m for t, m in lines[i + 1:i + 3] if t == "AndroidRuntime"]
            if following and re.fullmatch(rf"Process: {re.escape(PACKAGE)}, PID: {pid_pattern}", following[0]):
                return "the app crashed: " + (following[1].strip() if len(following) > 1 else message)
    for i, (tag, message) in enumerate(lines):
        signal = re.search(rf"^Fatal signal \d+ \((\w+)\).*, pid {pid_pattern} \(", message) if tag == "libc" else None
        if signal and PACKAGE[:15] in message:  # the kernel's process name is cut at 15 characters
            frame = next((m for t, m in lines[i:] if t == "DEBUG" and re.match(r"\s*#00 pc ", m)), "")
            library = re.search(r"/([^/\s]+\.so)\b", frame)
            where = f" in {library[1]}" if library else ""
            return f"the app crashed in native code: {signal[1]}{where} (the tombstone: adb bugreport)"
    for tag, message in lines:
        if tag == "lowmemorykiller" and re.match(rf"Kill '{re.escape(PACKAGE)}' \({pid_pattern}\)", message):
            return "the low-memory killer ended the app: the phone ran out of memory for it"
    for tag, message in lines:
        died = re.match(rf"Process {re.escape(PACKAGE)} \(pid {pid_pattern}\) has died(?:: (.*))?", message)
        if tag == "ActivityManager" and died:
            return f"the app's process died without a result line ({(died[1] or 'no reason given').strip()})"
    return None


def verdict(provider: str, log: str, pid: int | None, alive: bool) -> dict | None:
    """A provider's row once logcat has its line, or says how the app ended; None while it still runs."""
    rows = [row for row in parse(log) if row.get("provider") in (provider, "?")]
    if rows:
        return rows[-1]
    ended = crash(log, pid)
    if ended:
        return {"provider": provider, "error": ended}
    if not alive:
        return {"provider": provider, "error": "the app's process ended without a result line (see adb logcat)"}
    return None


def serials(devices: str) -> list[str]:
    """The devices `adb devices` lists, their state added where it is not 'device'."""
    found = []
    for line in devices.splitlines()[1:]:
        serial, _, state = line.strip().partition("\t")
        if serial:
            found.append(serial if state == "device" else f"{serial} ({state})")
    return found


def device_problem(returncode: int, stdout: str, stderr: str, devices: str, serial: str | None) -> str | None:
    """Why `adb get-state` found no phone to use, in one line that says what to do; None when it found one."""
    if returncode == 0 and stdout.strip() == "device":
        return None
    said = (stderr or stdout).strip()
    attached = serials(devices)
    if "more than one device" in said:
        return f"several devices attached ({', '.join(attached)}): choose one with -s SERIAL"
    if "unauthorized" in said:
        return "the phone has not allowed USB debugging from this computer: unlock it and accept the prompt"
    if "offline" in said:
        return "the phone is offline to adb: plug it in again or run `adb reconnect`"
    if serial and "not found" in said:
        return f"no device {serial}: adb sees {', '.join(attached) or 'none'}"
    return f"no device: adb sees none ({said.splitlines()[0] if said else 'no answer'})"


def install_problem(returncode: int, output: str, serial: str | None) -> str | None:
    """Why `adb install` refused the APK, with the command that gets past it; None when it installed."""
    if returncode == 0 and "Failure" not in output:
        return None
    if "INSTALL_FAILED_UPDATE_INCOMPATIBLE" in output:
        adb = f"adb -s {serial}" if serial else "adb"
        return (f"the phone has {PACKAGE} signed with another key (INSTALL_FAILED_UPDATE_INCOMPATIBLE): "
                f"remove it with `{adb} uninstall {PACKAGE}` (its pushed models go with it) and run again")
    failure = re.search(r"Failure \[([^\]]*)\]", output)
    said = failure[1] if failure else (output.strip().splitlines() or ["no answer"])[-1]
    return f"adb could not install the APK: {said}"


def start_problem(output: str) -> str | None:
    """Why `am start` did not start the benchmark (no such Activity, the app not installed); None when it did."""
    error = next((line.strip() for line in output.splitlines() if line.startswith("Error:")), None)
    return f"the app did not start: {error}" if error else None


def table(rows: list[dict]) -> str:
    """The rows as benchmarks/onnx_latency.py prints its own: one line per provider and model."""
    lines = []
    for r in rows:
        name = f"{r['provider']}/{r.get('model', '-')}"
        if "error" in r:
            lines.append(f"{name:20} failed: {r['error']}")
        else:
            peak = "     ?" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:6.0f}"
            lines.append(f"{name:20} {r['median']:6.3f} s/tile (min {r['min']:.3f}, max {r['max']:.3f}, {r['repeats']} runs, "
                         f"{r['tile']})  load {r['load_seconds']:.2f} s  peak RSS {peak} MB")
    return "\n".join(lines)


class Adb:
    """adb for one device: every command carries -s SERIAL when one was given."""

    def __init__(self, serial: str | None):
        self.serial = serial
        self.command = ["adb", "-s", serial] if serial else ["adb"]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.command, *args], capture_output=True, text=True, errors="replace")

    def out(self, *args: str) -> str:
        return self.run(*args).stdout


def device(adb: Adb) -> str:
    """The phone in words; PhoneProblem (one line, what to do) if adb has not exactly one to use."""
    if shutil.which("adb") is None:
        raise PhoneProblem("adb not found: install Android platform-tools and attach a phone with USB debugging on")
    state = adb.run("get-state")
    devices = "" if state.returncode == 0 else Adb(None).out("devices")
    problem = device_problem(state.returncode, state.stdout, state.stderr, devices, adb.serial)
    if problem:
        raise PhoneProblem(problem)
    props = [adb.out("shell", "getprop", p).strip() for p in ("ro.product.model", "ro.soc.model", "ro.build.version.release")]
    return f"{props[0]} ({props[1] or 'SoC unknown'}), Android {props[2]}"


def process_id(pidof: str) -> int | None:
    first = pidof.split()[:1]
    return int(first[0]) if first and first[0].isdigit() else None


def run_provider(adb: Adb, provider: str, repeats: int) -> dict:
    """One provider in a fresh app process; polls logcat and the process until its line, its end, or the timeout."""
    adb.run("shell", "am", "force-stop", PACKAGE)  # before clearing, so the old process's death is not in the log
    adb.run("logcat", "-c")
    started = adb.run("shell", "am", "start", "-W", "-n", ACTIVITY, "--es", "benchmark", provider, "--ei", "repeats", str(repeats))
    problem = start_problem(started.stdout + started.stderr)
    if problem:
        return {"provider": provider, "error": problem}
    pid = process_id(adb.out("shell", "pidof", PACKAGE))
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        alive = pid is None or str(pid) in adb.out("shell", "pidof", PACKAGE).split()
        if not alive:
            time.sleep(POLL_S)  # the crash's own lines reach logcat just after the process goes
        found = verdict(provider, adb.out("logcat", "-d", "-v", "tag", *LOGCAT_FILTER), pid, alive)
        if found:
            return found
        if time.monotonic() > deadline:
            return {"provider": provider, "error": f"no result in logcat after {TIMEOUT_S} s"}
        time.sleep(POLL_S)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-s", dest="serial", metavar="SERIAL", help="the device to use when several are attached (adb devices)")
    p.add_argument("--apk", type=Path, help="install this APK first (the Gradle build's app-debug.apk)")
    p.add_argument("--models", type=Path, default=MODELS, help="folder with manifest.json and the .ort models")
    p.add_argument("--providers", default="cpu,xnnpack,nnapi")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--parse", type=Path, help="print the table of a saved logcat dump instead of running")
    args = p.parse_args(argv)
    if args.parse:
        print(table(parse(args.parse.read_text(errors="replace"))))
        return 0
    adb = Adb(args.serial)
    try:
        phone = device(adb)
        if args.apk:
            installed = adb.run("install", "-r", str(args.apk))
            problem = install_problem(installed.returncode, installed.stdout + installed.stderr, args.serial)
            if problem:
                raise PhoneProblem(problem)
    except PhoneProblem as error:
        print(f"device_bench: {error}", file=sys.stderr)
        return 2
    manifest = json.loads((args.models / "manifest.json").read_text())
    adb.run("shell", "mkdir", "-p", REMOTE_MODELS)
    for name in ["manifest.json"] + [e["file"] for e in manifest["files"].values() if e.get("format") == "ort"]:
        adb.run("push", str(args.models / name), f"{REMOTE_MODELS}/{name}")
    rows = [run_provider(adb, provider, args.repeats) for provider in args.providers.split(",")]
    print(f"{phone}, models {args.models}")
    print(table(rows))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
