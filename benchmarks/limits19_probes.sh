#!/bin/bash
# Issue 19's SQL-limit probes (scaled down) against two checkouts, one line each: exit code, wall, CPU
# (user+sys), peak RSS (the largest process of the tree, as /usr/bin/time reports it), the peak size of the
# current directory while the query ran (spill into ./.tmp) and what it said.
#   PYTHON=.venv/bin/python benchmarks/limits19_probes.sh BEFORE_TREE AFTER_TREE STORE  (STORE: dataset imdb + table runs)
set -u
STORE=$3
probe() {  # TREE LABEL args...
  local tree=$1 label=$2; shift 2
  local cwd; cwd=$(mktemp -d); local log; log=$(mktemp -d)
  ( cd "$cwd"; peak=0; while true; do s=$(du -sk . | cut -f1); [ "$s" -gt "$peak" ] && peak=$s && echo $peak > "$log/spill"; sleep 0.2; done ) &
  local watcher=$!
  ( cd "$cwd" && NLPKIT_DATA_DIR=$STORE PYTHONPATH=$tree /usr/bin/time -o "$log/time" -f "%e %U %S %M" \
      timeout 120 "${PYTHON:-python}" -m nlpkit.cli query "$@" > "$log/out" 2>&1 ); local rc=$?
  kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
  read -r e u s m < <(tail -1 "$log/time")
  echo "$label | rc=$rc | wall ${e}s | cpu $(echo "$u+$s" | bc)s | peak RSS $((m/1024))MB | cwd peak $(cat "$log/spill" 2>/dev/null || echo 0)KB | $(grep -E 'error|rows|wrote' "$log/out" | head -1 | cut -c1-160)"
  rm -rf "$cwd" "$log"
}
for T in "before:$1" "after:$2"; do L=${T%%:*}; D=${T#*:}
  probe "$D" "$L spill sort" "SELECT md5(i::VARCHAR) m FROM range(5000000) t(i) ORDER BY m" --memory-limit 100MB --limit 2
  probe "$D" "$L repeat 1e9" "SELECT length(repeat('a', 1000000000))" --timeout 2 --memory-limit 200MB
  probe "$D" "$L fetch 40x20MB" "SELECT repeat('a', 20000000) FROM range(40)" --memory-limit 100MB
  probe "$D" "$L --out 30M rows" "SELECT i, md5(i::VARCHAR) m FROM range(30000000) t(i)" --memory-limit 200MB --timeout 600 --out "$(mktemp -d)/big.parquet"
  probe "$D" "$L as-of huge" "SELECT * FROM runs" --as-of runs=9223372036854775807 --timeout 5
  for a in "--timeout inf" "--timeout 1e300" "--timeout nan" "--memory-limit 0MB" "--as-of imdb=³" "--as-of runs=1e23"; do
    probe "$D" "$L $a" "SELECT count(*) FROM imdb" $a
  done
done
