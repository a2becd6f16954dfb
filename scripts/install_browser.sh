#!/usr/bin/env bash
# Installs what the browser tests need from Debian's packages: chromium (Playwright drives
# the system browser; a browser download is impossible here) and a CJK font, without which
# every Chinese character in a screenshot is a box. Does nothing when both are present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "error: the browser tests need: ${need[*]} (apt-get install them as root)" >&2
    exit 1
  }
  sudo="sudo"
fi
echo "==> installing ${need[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
}
