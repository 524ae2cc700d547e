#!/usr/bin/env python3
"""Compare `haidang-agent pcap` flow records with Zeek's conn.log baselines.

For every conn.log under DATA_DIR/pcap-zeek/testing/btest/Baseline, the btest script of the same
name says which trace Zeek read (`zeek ... -r $TRACES/x.pcap`, `zcat <$TRACES/x.gz | zeek -r -`)
and with which options (`-f FILTER`, `-C`). We run `haidang-agent pcap` on that trace (same
filter, `--active-timeout 0`: Zeek has no active timeout) and match flows on the 5-tuple with
orientation (originator address and port, responder address and port, IP protocol). ICMP uses
Zeek's convention on both sides: type as the originator port, counter-type or code as the
responder port.

A flow is reproduced exactly when the 5-tuple and the four counts agree: packets and IP-level
bytes per direction (our source.packets/source.bytes against Zeek's orig_pkts/orig_ip_bytes, and
destination.* against resp_*). Zeek's orig_bytes/resp_bytes are TCP-sequence payload counts, a
different measure we do not produce.

Baselines whose columns were cut (`btest-diff-cut -m uid service history`) cannot be compared
and are listed as skipped; baselines that are the same trace with the same options and the same
rows are compared once.

Usage: bench/zeek_flows.py [DATA_DIR] [--binary target/release/haidang-agent] [--details]
"""

import argparse
import collections
import gzip
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

NEEDED = ["orig_h", "orig_p", "resp_h", "resp_p", "proto", "orig_pkts", "orig_ip_bytes",
          "resp_pkts", "resp_ip_bytes"]
ALIASES = {
    "id.orig_h": "orig_h", "src": "orig_h", "id.orig_p": "orig_p", "src_port": "orig_p",
    "id.resp_h": "resp_h", "dst": "resp_h", "id.resp_p": "resp_p", "dst_port": "resp_p",
}
PROTOCOLS = {"tcp": 6, "udp": 17}
# Tests whose Zeek script changes what Zeek sees at run time: a file-based comparison cannot
# reproduce them.
RUNTIME_FILTERS = {
    "core.pcap.dynamic-filter": "the script installs packet filters while the trace is read",
    "scripts.base.frameworks.netcontrol.packetfilter": "NetControl drops connections by filter "
                                                      "while the trace is read",
    "core.skip_analyzer": "the script makes Zeek skip packets of chosen connections",
}


def test_scripts(btest):
    """btest name (path without extension, dots for slashes) -> script paths."""
    scripts = collections.defaultdict(list)
    for directory, _, files in os.walk(btest):
        relative = os.path.relpath(directory, btest)
        if relative.split(os.sep)[0] in ("Baseline", "Traces"):
            continue
        for name in files:
            path = os.path.join(relative, name)
            scripts[os.path.splitext(path)[0].replace(os.sep, ".")].append(
                os.path.join(btest, path))
    return scripts


def zeek_runs(script):
    """The zeek invocations of a btest script before it compares conn.log:
    (trace, gzipped, filter, ignore_checksums)."""
    runs = []
    try:
        text = open(script, errors="replace").read()
    except OSError:
        return runs
    for line in text.splitlines():
        if "btest-diff" in line and "conn.log" in line:
            break  # later runs do not write the compared conn.log
        if "@TEST-EXEC" not in line or "zeek" not in line:
            continue
        command = line.split("@TEST-EXEC:", 1)[-1]
        gzipped = None
        match = re.search(r"zcat\s*<\s*(\S+)", command)
        if match:
            gzipped = match.group(1)
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        if "zeek" not in [os.path.basename(word) for word in words]:
            continue
        trace, bpf, ignore_checksums = gzipped, None, False
        index = 0
        while index < len(words):
            word = words[index]
            if word in ("-r", "-Cr") and index + 1 < len(words):
                if words[index + 1] != "-":
                    trace = words[index + 1]
                ignore_checksums |= word == "-Cr"
                index += 1
            elif word == "-f" and index + 1 < len(words):
                bpf = words[index + 1]
                index += 1
            elif re.fullmatch(r"-[a-zA-Z]*C[a-zA-Z]*", word):
                ignore_checksums = True
            elif word.startswith("PacketFilter::restricted_filter="):
                bpf = word.split("=", 1)[1].strip('"')
            index += 1
        if trace:
            runs.append((trace, gzipped is not None, bpf, ignore_checksums))
    return runs


def read_baseline(path):
    """(rows as dicts with canonical names, missing columns)."""
    header = None
    rows = []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            header = line.split("\t")[1:]
            continue
        if line.startswith("#") or not line:
            continue
        if header is None:
            header = line.split("\t")
            continue
        rows.append(dict(zip([ALIASES.get(name, name) for name in header], line.split("\t"))))
    names = {ALIASES.get(name, name) for name in header or []}
    return rows, [name for name in NEEDED if name not in names]


def zeek_key(row):
    proto = row["proto"]
    if proto in PROTOCOLS:
        number = PROTOCOLS[proto]
    elif proto == "icmp":
        number = 58 if ":" in row["orig_h"] else 1
    else:
        number = int(row.get("ip_proto", "0") or 0) if row.get("ip_proto", "-") != "-" else 0
    ports = (int(row["orig_p"]), int(row["resp_p"]))
    if number not in (6, 17, 1, 58):
        ports = (0, 0)  # Zeek logs other protocols without ports
    return (row["orig_h"], ports[0], row["resp_h"], ports[1], number)


def zeek_counts(row):
    def number(name):
        value = row.get(name, "-")
        return int(value) if value not in ("-", "") else 0
    return (number("orig_pkts"), number("orig_ip_bytes"), number("resp_pkts"),
            number("resp_ip_bytes"))


def our_flows(binary, trace, bpf):
    command = [binary, "pcap", trace, "--active-timeout", "0"]
    if bpf:
        command += ["--filter", bpf]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip()
    flows = []
    for line in result.stdout.splitlines():
        fields = json.loads(line)["fields"]
        if fields.get("event.dataset") != "flow":
            continue
        number = int(fields["network.iana_number"])
        ports = (fields["source.port"], fields["destination.port"])
        if number not in (6, 17, 1, 58):
            ports = (0, 0)
        key = (fields["source.ip"], ports[0], fields["destination.ip"], ports[1], number)
        counts = (fields["source.packets"], fields["source.bytes"],
                  fields["destination.packets"], fields["destination.bytes"])
        flows.append((key, counts))
    return flows, result.stderr.strip()


def reverse(key):
    return (key[2], key[3], key[0], key[1], key[4])


def compare(zeek_rows, ours):
    """Matches flows; returns (exact, ours_in_zeek, categories Counter, examples)."""
    categories = collections.Counter()
    examples = collections.defaultdict(list)
    remaining = collections.defaultdict(list)
    for key, counts in ours:
        remaining[key].append(counts)
    unmatched_zeek = []
    exact = 0
    # First pass: exact matches anywhere among flows with the same key.
    for row in zeek_rows:
        key, counts = zeek_key(row), zeek_counts(row)
        if counts in remaining[key]:
            remaining[key].remove(counts)
            exact += 1
        else:
            unmatched_zeek.append((row, key, counts))
    ours_in_zeek = exact
    for row, key, counts in unmatched_zeek:
        tunnelled = row.get("tunnel_parents", "-") not in ("-", "(empty)", "")
        if remaining[key]:
            mine = remaining[key].pop(0)
            ours_in_zeek += 1
            if mine[0] == counts[0] and mine[2] == counts[2]:
                category = "same packets, different bytes"
            else:
                category = "different packet counts"
            detail = f"{key} zeek={counts} ours={mine}"
        elif remaining[reverse(key)]:
            mine = remaining[reverse(key)].pop(0)
            swapped = (mine[2], mine[3], mine[0], mine[1])
            category = "orientation differs" + (" (counts agree)" if swapped == counts else "")
            detail = f"{key} zeek={counts} ours reversed={mine}"
        elif counts == (0, 0, 0, 0):
            category = "Zeek only: a connection with no packet counted (malformed packet)"
            detail = f"{key} zeek={counts}"
        elif tunnelled:
            category = "Zeek only: inside a tunnel (we do not decapsulate)"
            detail = f"{key} zeek={counts}"
        else:
            category = "Zeek only"
            detail = f"{key} zeek={counts} history={row.get('history', '?')}"
        categories[category] += 1
        examples[category].append(detail)
    for key, left in remaining.items():
        for counts in left:
            categories["ours only"] += 1
            examples["ours only"].append(f"{key} ours={counts}")
    return exact, ours_in_zeek, categories, examples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", default="../shared/data")
    parser.add_argument("--binary", default="target/release/haidang-agent")
    parser.add_argument("--details", action="store_true", help="print each disagreeing flow")
    arguments = parser.parse_args()
    btest = os.path.join(arguments.data_dir, "pcap-zeek", "testing", "btest")
    traces = os.path.join(btest, "Traces")
    scripts = test_scripts(btest)
    skipped = []
    cases = {}
    baseline_root = os.path.join(btest, "Baseline")
    for name in sorted(os.listdir(baseline_root)):
        for log in sorted(os.listdir(os.path.join(baseline_root, name))):
            if not log.endswith("conn.log"):
                continue
            label = f"{name}/{log}"
            if name in RUNTIME_FILTERS:
                skipped.append((label, RUNTIME_FILTERS[name]))
                continue
            rows, missing = read_baseline(os.path.join(baseline_root, name, log))
            if missing:
                skipped.append((label, "columns cut: no " + ", ".join(missing)))
                continue
            runs = [run for script in scripts.get(name, []) for run in zeek_runs(script)]
            prefix = log[: -len("conn.log")].rstrip(".")
            if prefix:
                runs = [run for run in runs if prefix in os.path.basename(run[0])] or runs
            if not runs:
                skipped.append((label, "no `zeek -r TRACE` in its test script"))
                continue
            trace, gzipped, bpf, ignore_checksums = runs[-1]
            path = re.sub(r"^\$\{?TRACES\}?", traces, trace)
            if not os.path.exists(path):
                skipped.append((label, f"trace {trace} not in the data set"))
                continue
            signature = (path, bpf, tuple(sorted((zeek_key(row), zeek_counts(row)) for row in rows)))
            cases.setdefault(signature, (label, path, gzipped, bpf, ignore_checksums, rows, []))
            cases[signature][6].append(label)

    total_zeek = total_exact = total_ours = total_ours_in_zeek = 0
    overall = collections.Counter()
    print(f"{'baseline':72} {'zeek':>5} {'exact':>6} {'ours':>5} {'in zeek':>8}")
    for label, path, gzipped, bpf, ignore_checksums, rows, labels in cases.values():
        trace = path
        temporary = None
        if gzipped:
            temporary = tempfile.NamedTemporaryFile(suffix=".pcap", delete=False)
            with gzip.open(path) as source:
                temporary.write(source.read())
            temporary.close()
            trace = temporary.name
        ours, stderr = our_flows(arguments.binary, trace, bpf)
        if temporary:
            os.unlink(temporary.name)
        if ours is None:
            # Counted against us: Zeek read this capture.
            reason = stderr.split(": ")[-1]
            overall[f"Zeek only: haidang-agent could not read the capture ({reason})"] += len(rows)
            total_zeek += len(rows)
            print(f"{label[:72]:72} {len(rows):5} {0:6} {'-':>5} {'-':>8}  ({reason})")
            continue
        exact, in_zeek, categories, examples = compare(rows, ours)
        total_zeek += len(rows)
        total_exact += exact
        total_ours += len(ours)
        total_ours_in_zeek += in_zeek
        overall.update(categories)
        also = f" (+{len(labels) - 1} same)" if len(labels) > 1 else ""
        flags = (" -C" if ignore_checksums else "") + (f" -f '{bpf}'" if bpf else "")
        print(f"{(label + also + flags)[:72]:72} {len(rows):5} {exact:6} {len(ours):5} {in_zeek:8}")
        if arguments.details:
            for category, lines in examples.items():
                for line in lines:
                    print(f"    {category}: {line}")

    def share(part, whole):
        return f"{100.0 * part / whole:.1f}%" if whole else "n/a"

    print()
    print(f"compared: {len(cases)} trace/baseline pairs; skipped: {len(skipped)}")
    print(f"Zeek flows reproduced exactly (5-tuple and 4 counts): {total_exact}/{total_zeek} "
          f"= {share(total_exact, total_zeek)}")
    print(f"our flows whose 5-tuple Zeek has: {total_ours_in_zeek}/{total_ours} "
          f"= {share(total_ours_in_zeek, total_ours)}")
    print("disagreements by category:")
    for category, count in overall.most_common():
        print(f"  {count:5}  {category}")
    print("skipped baselines:")
    for label, reason in skipped:
        print(f"  {label}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
