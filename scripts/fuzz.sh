#!/usr/bin/env bash
# Fuzzes the parsers: the detector's Sigma rule parser (detector/fuzz, target `rule_parser`) and
# the collector's log parsers (collector/fuzz, one target per format).
#
#   scripts/fuzz.sh [--data DIR] SECONDS [TARGET...]
#
# Runs each TARGET (all of them when none is named) for SECONDS, one after another, and prints a
# one-line summary per target: executions and result. Exits non-zero if any target crashed (a
# panic or a broken invariant), timed out on an input, or did not build; the input is saved under
# <crate>/fuzz/artifacts/<target>/ and the log under <crate>/fuzz/target/fuzz-logs/<target>.log.
# Short form (CI): `scripts/fuzz.sh 15`. Long form: `scripts/fuzz.sh 600`, results in
# docs/fuzzing.md. `--data DIR` (the shared data folder: loghub, device-logs, auditd, web-logs)
# adds real lines to the corpora, which are git-ignored. Installs cargo-fuzz when missing. Stable
# Rust needs RUSTC_BOOTSTRAP=1 for the sanitizer flags cargo-fuzz passes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  echo "usage: scripts/fuzz.sh [--data DIR] SECONDS [TARGET...]" >&2
  echo "targets: rule_parser ${collector_targets[*]}" >&2
  exit 2
}

collector_targets=(rfc3164 rfc5424 cef leef keyvalue asa paloalto access auth auditd vendor json auto)
data=""
if [[ ${1:-} == --data ]]; then
  [[ $# -ge 2 ]] || usage
  data=$(cd "$2" && pwd)
  shift 2
fi
[[ ${1:-} =~ ^[0-9]+$ ]] || usage
seconds=$1
shift
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(rule_parser "${collector_targets[@]}")
for target in "${targets[@]}"; do
  [[ $target == rule_parser || " ${collector_targets[*]} " == *" $target "* ]] || usage
done

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

# The dictionary of a collector target (libFuzzer takes one; `auto` gets all of them).
dictionary() {
  case $1 in
    rfc3164 | rfc5424 | auth | vendor) echo dicts/syslog.dict ;;
    cef | leef | keyvalue | asa | paloalto) echo dicts/network.dict ;;
    access) echo dicts/web.dict ;;
    auditd) echo dicts/auditd.dict ;;
    json) echo dicts/json.dict ;;
    auto)
      mkdir -p target
      cat dicts/*.dict >target/auto.dict
      echo target/auto.dict
      ;;
  esac
}

# Up to COUNT lines spread over FILE, each as a corpus file of TARGET; REWRITE is a `sed` command
# applied to every line. Of Wazuh's test files (`*.ini`) only the `log N pass = <line>` lines count.
add_lines() {
  local target=$1 count=$2 file=$3 rewrite=${4:-}
  [[ -f $file ]] || return 0
  local lines=target/data-lines-$target name step
  if [[ $file == *.ini ]]; then
    sed -n 's/^log [0-9]* \(pass\|fail\) = //p' "$file"
  else
    cat "$file"
  fi | sed -e "$rewrite" >"$lines"
  step=$((($(wc -l <"$lines") + count - 1) / count))
  [[ $step -gt 0 ]] || return 0
  name=$(basename "$file" | tr -c 'A-Za-z0-9_.\n-' _)
  awk -v step="$step" -v count="$count" '(step == 1 || NR % step == 1) && n++ < count' "$lines" |
    split -l 1 -d -a 3 - "corpus/$target/data_${name}_"
}

# Real lines from the shared data folder (never copied into the repository: corpus/ is ignored).
add_data() {
  local target=$1 tests=$data/device-logs/ruleset/testing/tests
  # The auth target sends `program[pid]: message` after its own header: drop the original one.
  local strip_header='s/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* [^ ]* //'
  case $target in
    rfc3164)
      add_lines rfc3164 60 "$data/loghub/Linux/Linux_2k.log"
      add_lines rfc3164 30 "$tests/syslog.ini"
      ;;
    rfc5424) add_lines rfc5424 20 "$tests/checkpoint_smart1.ini" ;;
    cef) for file in "$tests"/{fireeye,panda_paps}.ini; do add_lines cef 20 "$file"; done ;;
    leef) add_lines leef 20 "$tests/f5_big_ip.ini" ;;
    keyvalue)
      for file in "$tests"/{fortigate,SonicWall,sophos_fw,netscreen,iptables}.ini; do add_lines keyvalue 20 "$file"; done
      ;;
    asa) for file in "$tests"/{cisco_asa,cisco_ftd,pix}.ini; do add_lines asa 30 "$file"; done ;;
    paloalto) add_lines paloalto 40 "$tests/paloalto.ini" ;;
    access)
      add_lines access 40 "$data/web-logs/elastic-examples/Common Data Formats/apache_logs/apache_logs"
      add_lines access 30 "$data/loghub/Apache/Apache_2k.log"
      for file in "$tests"/{apache,nginx}.ini; do add_lines access 20 "$file"; done
      ;;
    auth)
      add_lines auth 60 "$data/loghub/OpenSSH/OpenSSH_2k.log" "$strip_header"
      for file in "$tests"/{sshd,su,sudo,pam}.ini; do add_lines auth 20 "$file" "$strip_header"; done
      ;;
    auditd)
      for file in "$data"/auditd/auparse/test/*.log; do
        head -c 4000 "$file" >"corpus/auditd/data_$(basename "$file")"
      done
      add_lines auditd 40 "$tests/auditd.ini"
      ;;
    vendor)
      for file in "$tests"/{cisco_ios,f5_big_ip,arbor,checkpoint_smart1}.ini; do add_lines vendor 20 "$file"; done
      ;;
    json)
      add_lines json 20 "$tests/sysmon_eid_1.ini"
      add_lines json 20 "$tests/win_security.ini"
      ;;
    auto)
      add_lines auto 20 "$data/loghub/Linux/Linux_2k.log"
      add_lines auto 20 "$data/loghub/Apache/Apache_2k.log"
      add_lines auto 20 "$tests/fortigate.ini"
      add_lines auto 20 "$tests/auditd.ini"
      ;;
  esac
}

# Fills corpus/<target>/ of the crate in the current directory: our seeds (each file whole, and
# each of its lines alone), then the optional data.
seed() {
  local target=$1
  mkdir -p "corpus/$target"
  if [[ $target == rule_parser ]]; then
    find ../../rules/haidang -name '*.yml' -exec sh -c 'cp "$1" "corpus/rule_parser/seed_$(basename "$1")"' _ {} \;
    return
  fi
  local file name
  for file in seeds/"$target"/*; do
    name=$(basename "$file")
    cp "$file" "corpus/$target/seed_$name"
    split -l 1 -d -a 3 "$file" "corpus/$target/seed_${name}_"
  done
  [[ -z $data ]] || add_data "$target"
}

failed=0
summaries=()
for target in "${targets[@]}"; do
  if [[ $target == rule_parser ]]; then
    cd "$root/detector/fuzz"
    flags=(-dict=sigma.dict -max_len=4096)
    label="detector/$target"
  else
    cd "$root/collector/fuzz"
    flags=(-dict="$(dictionary "$target")" -max_len=4096)
    label="collector/$target"
  fi
  mkdir -p target/fuzz-logs "artifacts/$target"
  seed "$target"
  log="target/fuzz-logs/$target.log"
  status=0
  cargo fuzz run --fuzz-dir . "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=20 -print_final_stats=1 "${flags[@]}" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [[ $status -eq 0 ]]; then
    result=ok
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [[ -n $artifact ]]; then
      result="CRASH: $(pwd)/$artifact"
    elif [[ -z $runs ]]; then
      result="FAILED (did not build or start, status $status)"
    else
      result="FAILED (status $status)"
    fi
    tail -n 40 "$log" >&2
  fi
  summary="fuzz $label: ${seconds}s, ${runs:-0} executions, $result"
  echo "$summary"
  summaries+=("$summary")
done

echo "--- summary (logs in */fuzz/target/fuzz-logs/) ---"
printf '%s\n' "${summaries[@]}"
exit "$failed"
