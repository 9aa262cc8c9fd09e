#!/usr/bin/env bash
# Installs the Debian packages hiroba needs when they are missing:
# fonts for PDFs and web fonts, Chromium for browser tests, gettext for translations,
# Pango for WeasyPrint, nginx for the loopback cluster (scripts/cluster.sh), Tesseract with Japanese
# (horizontal and vertical) and Poppler for the OCR of scanned letters and faxes (and the records search's
# PDF text), jdupes as the share scanner's reference for duplicates (bench/records.py, tests/records),
# wrk as the load generator of the readers in bench/cluster.py, LibreOffice (no GUI) for the PDF copies of
# Office files in segment transfer (ADR 0020), Redis as the shared cache (tests and the readers' benchmark;
# scripts/ensure-redis.sh starts it).
# Does nothing when all are present.
set -euo pipefail
needed=(fonts-noto-cjk chromium gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 nginx-light wrk
        tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert poppler-utils jdupes
        libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui redis-server)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "hiroba: installing Debian packages: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "hiroba: please install as root: apt-get install ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
