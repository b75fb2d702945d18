#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with real NAL units: parameter sets, slice headers (with the
# SPS and PPS they use), stream windows, avcC/hvcC records. Sources: the fixtures in
# testdata/ and, when present, the shared conformance corpus beside the checkout
# (../shared/testdata/corpus, or $VIDEO_HW_CORPUS). Seeds are named by their SHA-1, so
# running it again only adds what is new; fuzz/corpus/ is git-ignored.
#
# usage: fuzz/seed.sh [EXTRA_DIR...]
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
dirs=("$root/testdata")
corpus=${VIDEO_HW_CORPUS:-$root/../shared/testdata/corpus}
if [[ -d $corpus ]]; then
    dirs+=("$corpus")
else
    echo "note: no shared corpus at $corpus; seeding from testdata/ only" >&2
fi
exec python3 seed.py corpus "${dirs[@]}" "$@"
