#!/usr/bin/env python3
"""Agent footprint: memory and CPU of a log shipper tailing one file at a steady rate, haidang-agent
side by side with rsyslog (and syslog-ng when available) on the same workload and collector.

    bench/footprint.py [--seconds 60] [--rate 5000] [--line-bytes 200] [--haidang PATH] [--agent PATH]

Target (the agent issue): at 5,000 lines/s of 200-byte lines the agent stays under 20 MB RSS and
10% of one core.

Needs release binaries (`cargo build --release -p haidang-collector -p haidang-agent`; this script
builds nothing) and `rsyslogd` (`apt-get install -y rsyslog`; this script installs nothing).
syslog-ng is optional: `--syslog-ng PATH` or `syslog-ng` on PATH (see the end of this text).

One collector (`haidang serve`: syslog TCP input, HTTP /health, agent input) serves every run. For
each shipper in turn, alone: a fresh empty log file, the shipper started on it and given a few
seconds to settle, then a writer appends --line-bytes lines (newline included; each carries its
number, then firewall-like key=value text, see --padding) at --rate lines per second, steadily,
for --seconds. The shipper process is sampled every 0.5 s: VmRSS from /proc/PID/status and CPU
time (utime + stime of all its threads, from /proc/PID/stat). CPU time, not load: the machine may
be busy with other work, and only the time the shipper itself consumed counts. The window runs
from the writer's start until every line has reached the collector (or a drain timeout):

- cpu_percent_of_one_core = shipper CPU seconds in the window / wall seconds of the window × 100;
- peak_rss_mib = the larger of VmHWM (read just before stopping) and the largest VmRSS sample;
  mean_rss_mib = the mean of the VmRSS samples in the window;
- 20 MB is taken as 20,000,000 bytes (19.07 MiB).

Delivery checks: for haidang-agent, `haidang wal dump` after the run (every line number exactly
once); for syslog shippers, the collector's `received_tcp` counter at /health (delta over the run).

Shippers are self-contained and touch no system path: each runs in the foreground as the invoking
user, with its own configuration, work directory and pid file under a temporary directory (which
also holds copies of our two binaries, so a rebuild during the run changes nothing). rsyslog loads
only imfile (inotify mode, its default) and omfwd (TCP to the collector's syslog input): no
imuxsock, no imklog, no system log socket. syslog-ng uses only a file() source and a network()
TCP destination.

Prints one JSON line per shipper and exits non-zero if a shipper lost or duplicated lines or
haidang-agent missed a target.

syslog-ng: Debian's syslog-ng-core conflicts with rsyslog (both provide system-log-daemon). To run
it next to an installed rsyslog without installing it as the system logger:
    apt-get install -y libivykis0 libnet1 libpcre3 libwrap0
    apt-get download syslog-ng-core && dpkg -x syslog-ng-core_*.deb /opt/syslog-ng
    bench/footprint.py --syslog-ng /opt/syslog-ng/usr/sbin/syslog-ng
"""

import argparse
import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
RSS_LIMIT_BYTES = 20_000_000
CPU_LIMIT_PERCENT = 10.0
SAMPLE_SECONDS = 0.5
BUILD = "cargo build --release -p haidang-collector -p haidang-agent"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, seconds, what, log):
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                sys.exit(f"{what} did not start; see {log}")
            time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# /proc readings


def cpu_seconds(pid):
    """utime + stime of every thread of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command name: field 3 (state) is fields[0]; utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def io_write_bytes(pid):
    try:
        with open(f"/proc/{pid}/io") as io:
            for line in io:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_ticks():
    """(busy, total) jiffies of the whole machine, all cores."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


class Sampler(threading.Thread):
    """Samples one process's RSS and CPU time every SAMPLE_SECONDS."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []  # (monotonic time, cpu seconds, rss KiB)
        self.done = threading.Event()
        self.lock = threading.Lock()

    def sample(self):
        try:
            reading = (time.monotonic(), cpu_seconds(self.pid), status_kib(self.pid, "VmRSS"))
        except (OSError, IndexError, ValueError):
            return None
        with self.lock:
            self.samples.append(reading)
        return reading

    def run(self):
        while not self.done.wait(SAMPLE_SECONDS):
            self.sample()

    def between(self, start, end):
        with self.lock:
            return [sample for sample in self.samples if start <= sample[0] <= end]


# ---------------------------------------------------------------------------------------------
# The workload


def paddings(kind, line_bytes):
    """The text after each line's number. `x`: one repeated character (compresses to almost
    nothing). `text` (default): firewall-like key=value pairs with random values, a pool of 8,192
    different ones (more than a batch holds), compressing about like real logs."""
    if kind == "x":
        return ["x" * line_bytes]
    generator = random.Random(20261127)
    actions = ["allow", "deny", "drop", "close", "timeout"]
    users = ["alice", "bob", "nguyen.van.a", "tran.thi.b", "svc-backup", "-"]
    pool = []
    for _ in range(8192):
        parts = []
        while sum(len(part) + 1 for part in parts) < line_bytes:
            parts.append(generator.choice([
                lambda: f"src=10.{generator.randrange(256)}.{generator.randrange(256)}"
                        f".{generator.randrange(1, 255)}",
                lambda: f"dst=203.113.{generator.randrange(256)}.{generator.randrange(1, 255)}",
                lambda: f"sport={generator.randrange(1024, 65536)}",
                lambda: f"dport={generator.choice([22, 53, 80, 443, 3389, 8080])}",
                lambda: f"action={generator.choice(actions)}",
                lambda: f"user={generator.choice(users)}",
                lambda: f"bytes={generator.randrange(40, 1_000_000)}",
                lambda: f"session={generator.getrandbits(48):012x}",
            ])())
        pool.append(" ".join(parts))
    return pool


class Writer(threading.Thread):
    """Appends numbered lines of exactly `line_bytes` bytes at a steady rate, for `seconds`."""

    def __init__(self, path, rate, seconds, line_bytes, padding):
        super().__init__(daemon=True)
        self.path, self.rate, self.seconds, self.line_bytes = path, rate, seconds, line_bytes
        self.paddings = paddings(padding, line_bytes)
        self.written = 0
        self.late_seconds = 0.0  # the largest lag behind the schedule, should be ~0

    @staticmethod
    def prefix(number):
        return f"2026-11-27T10:00:00+07:00 web01 app[1]: line={number:09d} "

    def line(self, number):
        head = self.prefix(number)
        padding = self.paddings[number % len(self.paddings)]
        return head + padding[: self.line_bytes - 1 - len(head)] + "\n"

    def run(self):
        with open(self.path, "a", encoding="ascii") as out:
            start = time.monotonic()
            while True:
                elapsed = time.monotonic() - start
                if elapsed >= self.seconds:
                    break
                due = int(elapsed * self.rate)
                if due - self.written > self.rate * 0.05:
                    self.late_seconds = max(self.late_seconds, (due - self.written) / self.rate)
                if self.written < due:
                    out.write("".join(self.line(number) for number in range(self.written, due)))
                    out.flush()
                    self.written = due
                time.sleep(0.005)
            due = int(self.seconds * self.rate)
            out.write("".join(self.line(number) for number in range(self.written, due)))
            out.flush()
            self.written = due


# ---------------------------------------------------------------------------------------------
# The collector


class Collector:
    def __init__(self, work, haidang):
        self.work, self.haidang = work, haidang
        self.tcp_port, self.http_port, self.agent_port = free_port(), free_port(), free_port()
        self.config = os.path.join(work, "collector.toml")
        with open(self.config, "w") as out:
            out.write(
                f"""data_dir = "{work}/collector"
rules = ["{ROOT}/rules/haidang"]
watch_rules = false
[inputs.syslog_udp]
enabled = false
[inputs.syslog_tcp]
listen = "127.0.0.1:{self.tcp_port}"
[inputs.http]
listen = "127.0.0.1:{self.http_port}"
[inputs.agents]
listen = "127.0.0.1:{self.agent_port}"
"""
            )
        self.log = os.path.join(work, "collector.log")
        self.process = None

    def start(self):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen([self.haidang, "serve", "--config", self.config],
                                            stdout=log, stderr=log)
        for port in (self.agent_port, self.http_port, self.tcp_port):
            wait_for_port(port, self.process, 120, "the collector", self.log)

    def health(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/health", timeout=5) as answer:
            return json.load(answer)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------------------------------------
# Shippers. Each: prepare(log_file) -> (command, env); counter: the /health key counting arrivals.


class HaidangAgent:
    name = "haidang-agent"
    counter = "received_agents"

    def __init__(self, work, binary, collector):
        self.work, self.binary, self.collector = work, binary, collector
        self.directory = os.path.join(work, "haidang-agent")

    def prepare(self, log_file):
        os.makedirs(self.directory, exist_ok=True)
        self.config = os.path.join(self.directory, "agent.toml")
        with open(self.config, "w") as out:
            out.write(
                f"""data_dir = "{self.directory}/data"
[collector]
addresses = ["127.0.0.1:{self.collector.agent_port}"]
[[files]]
name = "bench"
include = ["{log_file}"]
start_at = "end"
"""
            )
        token = subprocess.run([self.collector.haidang, "agents", "--config", self.collector.config, "token"],
                               capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run([self.binary, "enroll", "--token", token, "--config", self.config],
                       capture_output=True, check=True)
        return [self.binary, "run", "--config", self.config], None

    def ready(self):
        """Connected to the collector (status.json, written every 5 s)."""
        try:
            with open(os.path.join(self.directory, "data", "status.json")) as status:
                return json.load(status)["shipper"]["connected_to"] is not None
        except (OSError, ValueError, KeyError):
            return False

    def verify(self, written):
        """Every line number exactly once in the collector's WAL."""
        output = subprocess.run([self.collector.haidang, "wal", "dump", "--config", self.collector.config],
                                capture_output=True, text=True, check=True).stdout
        counts = {}
        records = 0
        for line in output.splitlines():
            records += 1
            text = json.loads(line).get("line", "")
            marker = text.find("line=")
            if marker >= 0:
                number = int(text[marker + 5: marker + 14])
                counts[number] = counts.get(number, 0) + 1
        return {
            "wal_records": records,
            "missing": sum(1 for number in range(written) if number not in counts),
            "duplicated": sum(1 for count in counts.values() if count > 1),
        }


class Rsyslog:
    name = "rsyslog"
    counter = "received_tcp"

    def __init__(self, work, binary, collector):
        self.work, self.binary, self.collector = work, binary, collector
        self.directory = os.path.join(work, "rsyslog")

    def prepare(self, log_file):
        os.makedirs(os.path.join(self.directory, "work"), exist_ok=True)
        config = os.path.join(self.directory, "rsyslog.conf")
        # Only imfile and omfwd: no imuxsock (no /dev/log, the equivalent of $OmitLocalLogging),
        # no imklog. The input has its own ruleset, so rsyslog's own messages are not forwarded.
        with open(config, "w") as out:
            out.write(
                f"""global(workDirectory="{self.directory}/work")
module(load="imfile")
ruleset(name="bench") {{
  action(type="omfwd" target="127.0.0.1" port="{self.collector.tcp_port}" protocol="tcp")
}}
input(type="imfile" file="{log_file}" tag="bench:" ruleset="bench")
"""
            )
        check = subprocess.run([self.binary, "-N1", "-f", config], capture_output=True, text=True)
        if check.returncode != 0:
            sys.exit(f"rsyslog refuses {config}:\n{check.stdout}{check.stderr}")
        pid_file = os.path.join(self.directory, "rsyslogd.pid")
        return [self.binary, "-n", "-f", config, "-i", pid_file], None

    def ready(self):
        return True

    def verify(self, written):
        return {}


class SyslogNg:
    name = "syslog-ng"
    counter = "received_tcp"

    def __init__(self, work, binary, collector):
        self.work, self.binary, self.collector = work, binary, collector
        self.directory = os.path.join(work, "syslog-ng")

    def prepare(self, log_file):
        os.makedirs(self.directory, exist_ok=True)
        config = os.path.join(self.directory, "syslog-ng.conf")
        binary = os.path.realpath(self.binary)
        prefix = os.path.dirname(os.path.dirname(os.path.dirname(binary)))  # .../usr/sbin/syslog-ng
        env = None
        extra = []
        if prefix != "/":
            # Unpacked with dpkg -x: its library and modules are under the same prefix.
            env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(prefix, "usr/lib/syslog-ng"))
            modules = sorted(glob.glob(os.path.join(prefix, "usr/lib/syslog-ng/[0-9]*")))
            if modules:
                extra = ["--module-path", modules[-1]]
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, env=env).stdout
        config_version = next((line.split(":", 1)[1].strip() for line in version.splitlines()
                               if line.startswith("Config version")), "3.35")
        with open(config, "w") as out:
            out.write(
                f"""@version: {config_version}
options {{ stats-freq(0); chain-hostnames(no); use-dns(no); dns-cache(no); }};
source s_bench {{ file("{log_file}" flags(no-parse)); }};
destination d_collector {{ network("127.0.0.1" port({self.collector.tcp_port}) transport("tcp")); }};
log {{ source(s_bench); destination(d_collector); }};
"""
            )
        return [binary, "-F", "--no-caps", *extra, "-f", config,
                "--pidfile", os.path.join(self.directory, "syslog-ng.pid"),
                "--persist-file", os.path.join(self.directory, "syslog-ng.persist"),
                "--control", os.path.join(self.directory, "syslog-ng.ctl")], env

    def ready(self):
        return True

    def verify(self, written):
        return {}


# ---------------------------------------------------------------------------------------------
# One run


def measure(shipper, collector, arguments, logs):
    log_file = os.path.join(logs, f"{shipper.name}.log")
    open(log_file, "w").close()
    command, env = shipper.prepare(log_file)
    output = os.path.join(shipper.directory, "output.log")
    with open(output, "a") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    sampler = Sampler(process.pid)
    sampler.start()

    deadline = time.monotonic() + 30
    while not shipper.ready():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"{shipper.name} did not start; see {output}")
        time.sleep(0.2)
    time.sleep(3)  # settle: startup work is not part of the steady state
    if process.poll() is not None:
        sys.exit(f"{shipper.name} exited; see {output}")

    writer = Writer(log_file, arguments.rate, arguments.seconds, arguments.line_bytes, arguments.padding)
    base = collector.health()[shipper.counter]
    start_busy, start_total = machine_ticks()
    first = sampler.sample()
    writer.start()
    while writer.is_alive():
        writer.join(0.5)
    written_at = sampler.sample()
    delivered = collector.health()[shipper.counter] - base
    drain_deadline = time.monotonic() + max(30.0, arguments.seconds / 2)
    while delivered < writer.written and time.monotonic() < drain_deadline and process.poll() is None:
        time.sleep(0.25)
        delivered = collector.health()[shipper.counter] - base
    last = sampler.sample()
    end_busy, end_total = machine_ticks()
    hwm_kib = status_kib(process.pid, "VmHWM") if process.poll() is None else 0
    threads = status_kib(process.pid, "Threads") if process.poll() is None else 0
    # Where the resident memory is at the end: heap and stacks, or mapped files (the binary).
    anon_kib = status_kib(process.pid, "RssAnon") if process.poll() is None else 0
    file_kib = status_kib(process.pid, "RssFile") if process.poll() is None else 0
    disk_write = io_write_bytes(process.pid)
    sampler.done.set()
    sampler.join()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

    window = sampler.between(first[0], last[0])
    wall = last[0] - first[0]
    cpu = last[1] - first[1]
    peak_kib = max([hwm_kib] + [sample[2] for sample in window])
    mean_kib = sum(sample[2] for sample in window) / len(window)
    cpu_percent = 100.0 * cpu / wall
    writing_percent = 100.0 * (written_at[1] - first[1]) / (written_at[0] - first[0])
    summary = {
        "shipper": shipper.name,
        "seconds": arguments.seconds,
        "rate": arguments.rate,
        "line_bytes": arguments.line_bytes,
        "padding": arguments.padding,
        "lines_written": writer.written,
        "lines_delivered": delivered,
        "writer_max_lag_seconds": round(writer.late_seconds, 3),
        "drain_seconds": round(last[0] - written_at[0], 2),
        "peak_rss_mib": round(peak_kib / 1024, 2),
        "mean_rss_mib": round(mean_kib / 1024, 2),
        "vmhwm_mib": round(hwm_kib / 1024, 2),
        "rss_at_start_mib": round(window[0][2] / 1024, 2),
        "rss_at_end_mib": round(window[-1][2] / 1024, 2),
        "rss_anon_at_end_mib": round(anon_kib / 1024, 2),
        "rss_file_at_end_mib": round(file_kib / 1024, 2),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "cpu_percent_of_one_core": round(cpu_percent, 2),
        "cpu_percent_while_writing": round(writing_percent, 2),
        "threads": threads,
        "disk_write_mib": round(disk_write / 2**20, 1),
        "machine_busy_percent_of_all_cores":
            round(100.0 * (end_busy - start_busy) / max(1, end_total - start_total), 1),
        "samples": len(window),
    }
    if arguments.samples:
        with open(arguments.samples, "a") as out:
            for moment, seconds, rss in window:
                out.write(f"{shipper.name},{moment - first[0]:.2f},{seconds - first[1]:.2f},{rss}\n")
    summary.update(shipper.verify(writer.written))
    summary["all_delivered"] = delivered == writer.written and not summary.get("missing") \
        and not summary.get("duplicated")
    summary["rss_under_20mb"] = peak_kib * 1024 < RSS_LIMIT_BYTES
    summary["cpu_under_10_percent"] = cpu_percent < CPU_LIMIT_PERCENT
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=5000, help="lines per second")
    parser.add_argument("--line-bytes", type=int, default=200, help="bytes per line, newline included")
    parser.add_argument("--padding", choices=["text", "x"], default="text",
                        help="after each line's number: key=value text (default) or one repeated character")
    parser.add_argument("--haidang", default=os.path.join(ROOT, "target/release/haidang"))
    parser.add_argument("--agent", default=os.path.join(ROOT, "target/release/haidang-agent"))
    parser.add_argument("--rsyslogd", default=shutil.which("rsyslogd") or "/usr/sbin/rsyslogd")
    parser.add_argument("--syslog-ng", default=shutil.which("syslog-ng") or "",
                        help="syslog-ng binary (optional; skipped when absent)")
    parser.add_argument("--shippers", default="haidang-agent,rsyslog,syslog-ng",
                        help="which shippers, in order (comma-separated)")
    parser.add_argument("--samples", metavar="FILE",
                        help="also write every sample as CSV: shipper, seconds into the window, "
                             "CPU seconds, RSS KiB")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    arguments = parser.parse_args()
    if arguments.line_bytes < len(Writer.prefix(0)) + 1:
        sys.exit(f"--line-bytes must be at least {len(Writer.prefix(0)) + 1}")
    wanted = [name.strip() for name in arguments.shippers.split(",") if name.strip()]

    for binary in (arguments.haidang, arguments.agent):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is missing; build it first:\n    {BUILD}")
    if "rsyslog" in wanted and not os.access(arguments.rsyslogd, os.X_OK):
        print(f"rsyslogd is missing, so rsyslog is skipped; install it with:\n    apt-get install -y rsyslog",
              file=sys.stderr)
        wanted.remove("rsyslog")
    if "syslog-ng" in wanted and not (arguments.syslog_ng and os.access(arguments.syslog_ng, os.X_OK)):
        print("syslog-ng not found, so it is skipped (see --help for running it beside rsyslog)",
              file=sys.stderr)
        wanted.remove("syslog-ng")

    work = tempfile.mkdtemp(prefix="haidang-footprint-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    # Copies of our binaries, so that a rebuild during the run (a shared machine) changes nothing.
    binaries = os.path.join(work, "bin")
    os.makedirs(binaries)
    haidang = shutil.copy2(arguments.haidang, binaries)
    agent = shutil.copy2(arguments.agent, binaries)

    collector = Collector(work, haidang)
    shippers = {
        "haidang-agent": lambda: HaidangAgent(work, agent, collector),
        "rsyslog": lambda: Rsyslog(work, arguments.rsyslogd, collector),
        "syslog-ng": lambda: SyslogNg(work, arguments.syslog_ng, collector),
    }
    unknown = [name for name in wanted if name not in shippers]
    if unknown:
        sys.exit(f"unknown shipper(s): {', '.join(unknown)}")
    summaries = []
    collector.start()
    try:
        for index, name in enumerate(wanted):
            if index:
                time.sleep(5)  # let the collector finish the previous run's lines
            summary = measure(shippers[name](), collector, arguments, logs)
            summaries.append(summary)
            print(json.dumps(summary), flush=True)
    finally:
        collector.stop()

    ok = all(summary["all_delivered"] for summary in summaries) and all(
        summary["rss_under_20mb"] and summary["cpu_under_10_percent"]
        for summary in summaries if summary["shipper"] == "haidang-agent")
    if ok and not arguments.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"work directory kept: {work}", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
