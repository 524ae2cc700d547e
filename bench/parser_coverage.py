#!/usr/bin/env python3
"""Parser coverage on real logs nobody here wrote.

    bench/parser_coverage.py [DATA_DIR] [--haidang PATH] [--verbose]

DATA_DIR defaults to ../shared/data. Runs `haidang parse` over each source and prints, per source,
the share of lines parsed into the fields that source must yield:

- loghub Linux and OpenSSH: timestamp, host and program equal to the ground truth of
  `*_structured.csv`, the pid too; for sshd lines that name a user or a source address, `user.name`
  and `source.ip`/`source.domain` (targets: 99%).
- loghub Apache (error log): timestamp and `log.level` equal to the ground truth.
- web-logs apache_logs (access log): method, path and status.
- auditd (auparse test logs): events formed, and the share of SYSCALL events with `syscall` and `exe`.
- device-logs (Wazuh test lines): per decoder family, the share of lines a format parser recognised
  (a source type other than plain syslog or unparsed); every device family must be recognised.

Exit status 1 when a target is missed. Reads the data in place; copies nothing.
"""

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

DEVICE_FAMILIES = {
    "fortigate-firewall-v5", "fortigate-firewall-v6", "fortiauth", "fortimail-like", "cisco-asa",
    "cisco-ftd", "pix", "cisco-ios", "paloalto", "checkpoint-smart1", "f5-bigip", "f5-bigip-cef",
    "sophos-fw", "sonicwall", "netscreenfw", "iptables", "eset-bsd", "arbor", "fireeye",
}


def run_parse(haidang, lines, fmt="auto"):
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    result = subprocess.run([haidang, "parse", "--format", fmt, "-"], input=text.encode(),
                            capture_output=True, check=True)
    return [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]


def field(event, name):
    value = event.get("fields", {}).get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def share(good, total):
    return 100.0 * good / total if total else 100.0


def loghub_syslog(haidang, data, name, pid_column, verbose):
    folder = os.path.join(data, "loghub", name)
    with open(os.path.join(folder, f"{name}_2k.log"), encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    with open(os.path.join(folder, f"{name}_2k.log_structured.csv"), encoding="utf-8", errors="replace") as handle:
        truth = list(csv.DictReader(handle))
    events = run_parse(haidang, lines)
    good = 0
    sshd_total = sshd_good = 0
    failures = Counter()
    for line, expected, event in zip(lines, truth, events):
        program = field(event, "log.syslog.appname") or field(event, "process.name")
        component = expected["Component"] if name == "Linux" else "sshd"
        host = expected["Level"] if name == "Linux" else expected["Component"]
        pid = expected[pid_column]
        checks = {
            "timestamp": event.get("timestamp") is not None,
            "host": field(event, "host.name") == host,
            "program": program == component,
            "pid": (not pid) or str(field(event, "process.pid")) == pid,
        }
        content = expected["Content"]
        if (program or "").startswith("sshd"):
            wants_address = re.search(r"(from|rhost=|for \S+ \[)\s*\S", content) and not re.search(r"rhost=\s*$|rhost=\s+user", content)
            wants_user = re.search(r"(for|user) (invalid user )?[^\s;]+ from|user=\S+", content)
            if wants_address or wants_user:
                sshd_total += 1
                has_address = field(event, "source.ip") or field(event, "source.domain")
                has_user = field(event, "user.name")
                if (not wants_address or has_address) and (not wants_user or has_user):
                    sshd_good += 1
                else:
                    failures["sshd fields: " + re.sub(r"\d+", "N", content)[:70]] += 1
        if all(checks.values()):
            good += 1
        else:
            failures[",".join(k for k, v in checks.items() if not v) + ": " + line[:70]] += 1
    print(f"loghub {name:8} {len(lines):5} lines  timestamp+host+program+pid {share(good, len(lines)):6.2f}%"
          + (f"   sshd user/address {share(sshd_good, sshd_total):6.2f}% of {sshd_total}" if sshd_total else ""))
    if verbose:
        for failure, count in failures.most_common(10):
            print(f"    {count:4}  {failure}")
    return min(share(good, len(lines)), share(sshd_good, sshd_total))


def loghub_apache(haidang, data, verbose):
    folder = os.path.join(data, "loghub", "Apache")
    with open(os.path.join(folder, "Apache_2k.log"), encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    with open(os.path.join(folder, "Apache_2k.log_structured.csv"), encoding="utf-8", errors="replace") as handle:
        truth = list(csv.DictReader(handle))
    events = run_parse(haidang, lines)
    good = sum(1 for expected, event in zip(truth, events)
               if event.get("timestamp") and field(event, "log.level") == expected["Level"])
    print(f"loghub Apache   {len(lines):5} lines  timestamp+level {share(good, len(lines)):6.2f}%")
    return share(good, len(lines))


def access_log(haidang, data, verbose):
    path = os.path.join(data, "web-logs", "elastic-examples", "Common Data Formats", "apache_logs", "apache_logs")
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    events = run_parse(haidang, lines)
    good = sum(1 for event in events if field(event, "http.request.method") and field(event, "url.path")
               and isinstance(field(event, "http.response.status_code"), int) and event.get("timestamp"))
    print(f"web-logs access {len(lines):5} lines  method+path+status+time {share(good, len(lines)):6.2f}%")
    return share(good, len(lines))


def auditd(haidang, data, verbose):
    folder = os.path.join(data, "auditd", "auparse", "test")
    records = events_total = syscalls = complete = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
        records += len(lines)
        serials = {m.group(1) for line in lines for m in [re.search(r"audit\([\d.]+:(\d+)\)", line)] if m}
        events = run_parse(haidang, lines, "auditd")
        events_total += len(events)
        for event in events:
            types = field(event, "type")
            all_types = event["fields"].get("type")
            all_types = all_types if isinstance(all_types, list) else [all_types]
            if "SYSCALL" in all_types:
                syscalls += 1
                if field(event, "syscall") and field(event, "exe"):
                    complete += 1
        if verbose:
            print(f"    {name}: {len(lines)} records, {len(serials)} serials, {len(events)} events")
    print(f"auditd          {records:5} records  {events_total} events; SYSCALL events with syscall+exe "
          f"{share(complete, syscalls):6.2f}% of {syscalls}")
    return share(complete, syscalls)


def device_logs(haidang, data, verbose):
    folder = os.path.join(data, "device-logs", "ruleset", "testing", "tests")
    by_family = defaultdict(list)
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".ini"):
            continue
        block_lines = []
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                raw = raw.rstrip("\n")
                match = re.match(r"log \d+ pass = (.*)", raw)
                if match:
                    block_lines.append(match.group(1))
                match = re.match(r"decoder\s*=\s*(.*)", raw)
                if match:
                    for line in block_lines:
                        by_family[match.group(1).strip()].append(line)
                    block_lines = []
    missing = []
    print("device-logs (decoder family: recognised / lines, source types)")
    for family in sorted(DEVICE_FAMILIES):
        lines = by_family.get(family, [])
        if not lines:
            continue
        events = run_parse(haidang, lines)
        types = Counter(event.get("source_type", "?") for event in events)
        recognised = sum(count for kind, count in types.items() if kind not in ("syslog", "unparsed", "?"))
        print(f"    {family:22} {recognised:3} / {len(lines):3}  {dict(types.most_common(3))}")
        if recognised == 0:
            missing.append(family)
    if missing:
        print(f"    not recognised: {', '.join(missing)}")
    return not missing


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("data", nargs="?", default=os.path.join(here, "..", "..", "shared", "data"))
    parser.add_argument("--haidang", default=os.path.join(here, "..", "target", "release", "haidang"))
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args()
    data, haidang, verbose = os.path.abspath(options.data), options.haidang, options.verbose
    linux = loghub_syslog(haidang, data, "Linux", "PID", verbose)
    openssh = loghub_syslog(haidang, data, "OpenSSH", "Pid", verbose)
    loghub_apache(haidang, data, verbose)
    access_log(haidang, data, verbose)
    auditd(haidang, data, verbose)
    devices = device_logs(haidang, data, verbose)
    ok = linux >= 99.0 and openssh >= 99.0 and devices
    print("targets met" if ok else "targets missed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
