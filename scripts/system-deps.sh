#!/usr/bin/env bash
# Install the Debian packages firstseen's demo and tests need, only when missing.
#   scripts/system-deps.sh demo   -> ffmpeg
#   scripts/system-deps.sh test   -> ffmpeg, libchromaprint1 (the audio signal), chromium, postgresql, redis-server,
#                                    vpdq build deps, opencv-doc (its vtest.avi and tree.avi: real fixed-camera footage)
#   scripts/system-deps.sh bench  -> test's, and the game data whose music is the audio benchmark's soundtracks
set -euo pipefail
want=(ffmpeg libchromaprint1)
if [[ "${1:-test}" == "test" || "${1:-test}" == "bench" ]]; then
  want+=(chromium postgresql redis-server curl jq pkg-config opencv-doc libavcodec-dev libavformat-dev libavutil-dev
         libswscale-dev libavfilter-dev libavdevice-dev)
fi
if [[ "${1:-test}" == "bench" ]]; then
  want+=(extremetuxracer-data frozen-bubble-data pingus-data)  # bench/audio.py's TRACKS
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
