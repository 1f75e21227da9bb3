#!/usr/bin/env bash
# Golden lists: what the engine serves every test user under the documented evaluation protocol (docs/EVALUATION.md),
# recorded before a refactoring and compared after each step. One file per configuration in bench/golden/, one line per
# user: user id, algorithm, a digest of the top 10 (RecApp.Refresher evaluate --golden; digests keep the licensed
# datasets' lists out of the repository).
#   bench/golden/run.sh check    compare with the committed files (exit 1 on any difference, naming the users)
#   bench/golden/run.sh update   rewrite the committed files (only for an intended change, named in its commit)
# Configurations: MovieLens latest-small and Last.fm 2K (min 5 train users per item) with split seeds 42, 1, 2 (skipped,
# saying so, where the shared datasets are absent: RECAPP_DATASETS or ../shared/datasets), and synthetic S, data and
# split seed 42 (10,000 test users, the protocol's sample). About 3 minutes on 2 cores.
# The digests are bit-exact for one kind of processor: the files were recorded on one host, and on another (an AMD
# EPYC, 2026-12-08) the same commits give one Last.fm seed-1 user (id 1905, of 1,856) another top 10 from a near-tie in
# the last bits. Compare a change with its parent on the same machine (check both; the differences must be the same).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
MODE=${1:-check}
[[ $MODE == check || $MODE == update ]] || { echo "usage: $0 check|update" >&2; exit 2; }
DATASETS=${RECAPP_DATASETS:-$(cd .. && pwd)/shared/datasets}
GOLDEN=bench/golden
OUT=$(mktemp -d /tmp/recapp-golden.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

dotnet build src/RecApp.Refresher -c Release -nologo -v q >/dev/null
REFRESHER=src/RecApp.Refresher/bin/Release/net10.0/RecApp.Refresher.dll
# A budget no build reaches: the tuner's choices then depend on the data only, not on how busy the machine is.
export Recommendations__Tuning__Budget=00:30:00

serve() {
  local name=$1; shift
  local started=$SECONDS
  dotnet "$REFRESHER" evaluate "$@" --golden "$OUT/$name.tsv" >/dev/null
  echo "$name: $(wc -l <"$OUT/$name.tsv") users in $((SECONDS - started)) s"
}

for seed in 42 1 2; do
  if [ -f "$DATASETS/ml-latest-small/ratings.csv" ]; then
    serve "ml-latest-small-$seed" --format movielens --path "$DATASETS/ml-latest-small" --split-seed "$seed"
  else
    echo "ml-latest-small-$seed: skipped, $DATASETS/ml-latest-small is absent (https://grouplens.org/datasets/movielens/latest/)"
  fi
  if [ -f "$DATASETS/hetrec2011-lastfm-2k/user_artists.dat" ]; then
    serve "lastfm-$seed" --format lastfm --path "$DATASETS/hetrec2011-lastfm-2k" --min-item-train-users 5 --split-seed "$seed"
  else
    echo "lastfm-$seed: skipped, $DATASETS/hetrec2011-lastfm-2k is absent (https://grouplens.org/datasets/hetrec-2011/)"
  fi
done
serve synthetic-S-42 --synthetic S --seed 42 --split-seed 42

if [ "$MODE" = update ]; then
  cp "$OUT"/*.tsv "$GOLDEN"/
  echo "Golden files updated in $GOLDEN/."
  exit 0
fi
status=0
for file in "$OUT"/*.tsv; do
  name=$(basename "$file")
  if [ ! -f "$GOLDEN/$name" ]; then
    echo "$name: no golden file to compare with"; status=1; continue
  fi
  differing=$(diff <(sort "$GOLDEN/$name") <(sort "$file") | grep -c '^>' || true)
  if [ "$differing" -eq 0 ]; then
    echo "$name: identical"
  else
    echo "$name: $differing users differ, e.g.:"
    diff <(sort "$GOLDEN/$name") <(sort "$file") | head -6
    status=1
  fi
done
exit $status
