#!/usr/bin/env bash
# Installs what building Hải Đăng needs from the system: pkg-config, Hyperscan (libhs) and
# libpcap (the agent's packet capture).
# As root it installs them with apt-get; otherwise it prints the exact command and stops.
set -euo pipefail

packages=(pkg-config libhyperscan-dev libpcap-dev)
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists libhs 2>/dev/null; then
  # Vectorscan provides the same libhs; either package will do.
  dpkg -s libvectorscan-dev >/dev/null 2>&1 || missing+=(libhyperscan-dev)
fi
pkg-config --exists libpcap 2>/dev/null || missing+=(libpcap-dev)
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo is not installed; install Rust 1.95 with rustup" >&2; exit 1; }

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing ${missing[*]}; run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
