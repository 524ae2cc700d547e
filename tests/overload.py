#!/usr/bin/env python3
"""Overload test of the collector (issue 3): senders at several times the pipeline's capacity for a
bounded time, against a real `haidang serve` on loopback.

    tests/overload.py [--seconds 10] [--haidang target/release/haidang]

Checks, and prints the numbers:
- TCP senders are slowed, not dropped: every line sent over TCP is counted as received and becomes
  an event;
- UDP datagrams beyond what the queue can hold are dropped and counted (`udp_dropped` > 0), and
  every datagram is either matched to an event or counted as dropped (kernel socket-buffer drops,
  which the collector cannot see, are reported separately from /proc/net/udp);
- the collector's anonymous resident memory (RssAnon: heap and stacks, not the mapped index files)
  stays under the bound (baseline + queue capacity x longest line
  + the index writers' configured memory, with a margin), sampled every 100 ms.
Exit status 1 when a check fails. The long form is `--seconds 60`; CI runs `--seconds 3`.
"""

import argparse
import multiprocessing
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

QUEUE = 512
# Memory given to the index writers (`[index] writer_memory_mb`): part of the bound.
INDEX_MB = 32
MAX_LINE = 4096


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid):
    """Anonymous resident memory (heap, stacks): what the bound limits. File-backed pages (the
    binary, the index segments tantivy maps) are page cache the kernel can drop, and are left out."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def udp_kernel_drops(port):
    drops = 0
    with open("/proc/net/udp") as table:
        for line in table.readlines()[1:]:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) == port:
                drops += int(parts[-1])
    return drops


def health(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        return json.load(response)


def calibrate(block, seconds):
    """Lines per second the TCP senders manage against a receiver that only discards."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def drain(connection):
        with connection:
            while connection.recv(1 << 20):
                pass

    def accept():
        for _ in range(3):
            connection, _ = listener.accept()
            threading.Thread(target=drain, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    counter = multiprocessing.Value("q", 0)
    stop = time.time() + seconds
    started = time.time()
    senders = [multiprocessing.Process(target=tcp_sender, args=(port, block, stop, counter)) for _ in range(3)]
    for process in senders:
        process.start()
    for process in senders:
        process.join()
    listener.close()
    return counter.value / (time.time() - started)


def tcp_sender(port, block, stop, counter):
    with socket.create_connection(("127.0.0.1", port)) as connection:
        while time.time() < stop:
            connection.sendall(block)
            with counter.get_lock():
                counter.value += block.count(b"\n")


def udp_sender(port, datagram, stop, counter):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        while time.time() < stop:
            for _ in range(200):
                sender.sendto(datagram, ("127.0.0.1", port))
            with counter.get_lock():
                counter.value += 200


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--haidang", default=os.path.join(here, "..", "target", "release", "haidang"))
    options = parser.parse_args()

    tcp_port, udp_port, http_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    work = tempfile.mkdtemp(prefix="haidang-overload-")
    config = os.path.join(work, "haidang.toml")
    with open(config, "w") as handle:
        handle.write(
            f'version = 1\ndata_dir = "{work}/data"\nrules = ["{here}/../rules/haidang"]\nthreads = 1\n'
            f'queue_capacity = {QUEUE}\nmax_line_bytes = {MAX_LINE}\nwatch_rules = false\n'
            f'[inputs.syslog_udp]\nlisten = "127.0.0.1:{udp_port}"\n'
            f'[inputs.syslog_tcp]\nlisten = "127.0.0.1:{tcp_port}"\n'
            f'[inputs.http]\nlisten = "127.0.0.1:{http_port}"\n'
            '[inputs.agents]\nlisten = "127.0.0.1:0"\n'
            '[ui]\nenabled = false\n'
            f'[index]\nwriter_memory_mb = {INDEX_MB}\n')
    server = subprocess.Popen([options.haidang, "serve", "--config", config], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while True:
            try:
                health(http_port)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    print("the collector did not start:", server.stderr.read() if server.poll() is not None else "")
                    return 1
                time.sleep(0.1)
        baseline = rss_kib(server.pid)
        line_template = ("<86>Nov 20 08:15:00 web{:04d} sudo:  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
                         "COMMAND=/usr/bin/systemctl restart nginx\n")
        calibration_block = "".join(line_template.format(index % 10000) for index in range(2000)).encode()
        unthrottled = calibrate(calibration_block, min(2.0, options.seconds))
        line = ("<86>Nov 20 08:15:00 web{:04d} sudo:  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
                "COMMAND=/usr/bin/systemctl restart nginx\n")
        block = "".join(line.format(index % 10000) for index in range(2000)).encode()
        stop = time.time() + options.seconds
        tcp_sent = multiprocessing.Value("q", 0)
        udp_sent = multiprocessing.Value("q", 0)
        peak = {"rss": baseline}

        def sampler():
            while time.time() < stop + 5:
                peak["rss"] = max(peak["rss"], rss_kib(server.pid))
                time.sleep(0.1)

        # Separate processes, so the senders are not held back by one interpreter lock.
        senders = [multiprocessing.Process(target=tcp_sender, args=(tcp_port, block, stop, tcp_sent)) for _ in range(3)]
        senders.append(multiprocessing.Process(target=udp_sender, args=(udp_port, line.format(1).encode(), stop, udp_sent)))
        watcher = threading.Thread(target=sampler)
        started = time.time()
        for process in senders:
            process.start()
        watcher.start()
        for process in senders:
            process.join()
        elapsed = time.time() - started
        sent = {"tcp": tcp_sent.value, "udp": udp_sent.value}
        # Let the queue drain.
        expected_tcp = sent["tcp"]
        deadline = time.time() + 120
        while True:
            counters = health(http_port)
            settled = counters["received_tcp"] == expected_tcp and counters["events"] >= expected_tcp + counters["received_udp"] - counters["udp_dropped"]
            if settled or time.time() > deadline:
                break
            time.sleep(0.2)
        watcher.join()
        counters = health(http_port)
        kernel_drops = udp_kernel_drops(udp_port)
        bound_kib = baseline + 2 * QUEUE * MAX_LINE // 1024 + INDEX_MB * 1024 + 64 * 1024
        udp_events = counters["events"] - counters["received_tcp"]
        print(f"sent for {elapsed:.1f} s: tcp {sent['tcp']} lines ({sent['tcp'] / elapsed:,.0f}/s offered), udp {sent['udp']} datagrams")
        print(f"collector: {json.dumps(counters)}")
        print(f"the same 3 TCP senders push {unthrottled:,.0f} lines/s into a socket that only discards; "
              f"against the collector they got {sent['tcp'] / elapsed:,.0f}/s: slowed {unthrottled / max(sent['tcp'] / elapsed, 1):.1f}x by backpressure")
        print(f"processed {counters['events'] / elapsed:,.0f} events/s over the sending time; "
              f"udp: {counters['received_udp']} received, {counters['udp_dropped']} dropped at the full queue, "
              f"{kernel_drops} dropped by the kernel socket buffer")
        print(f"memory: baseline {baseline / 1024:.1f} MiB, peak {peak['rss'] / 1024:.1f} MiB, bound {bound_kib / 1024:.1f} MiB")
        checks = {
            "every TCP line received": counters["received_tcp"] == sent["tcp"],
            "every TCP line became an event": counters["events"] >= sent["tcp"],
            "TCP senders slowed (at least 2x)": unthrottled >= 2 * sent["tcp"] / elapsed,
            "UDP overflow counted": counters["udp_dropped"] > 0,
            "UDP received = events + dropped": counters["received_udp"] == udp_events + counters["udp_dropped"],
            "memory under the bound": peak["rss"] <= bound_kib,
        }
        for name, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        return 0 if all(checks.values()) else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
