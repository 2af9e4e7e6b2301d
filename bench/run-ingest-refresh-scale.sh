#!/bin/sh
# Runs feedmill's ingest, refresh and store-scale benchmarks (sections 1, 2
# and 4 of docs/PERFORMANCE.md) and prints each ratio beside its target.
# Needs only Go: the farm and the stores are built by the programs.
# Outputs are also kept in bench/out/ (git-ignored), with CPU and
# allocation profiles for `go tool pprof`.
#
# With a PostgreSQL server (FEEDMILL_BENCH_POSTGRES, else
# FEEDMILL_TEST_POSTGRES: a DSN such as
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable), the refresh is
# measured on both stores in the same run, and REFRESH_INSTANCES (default
# 3) instances then share one PostgreSQL store (section 5); each run works
# in a schema of its own, dropped after. Without one, that part is skipped
# with a message.
#
#   bench/run-ingest-refresh-scale.sh            # from the repository root
#   SCALE_ITEMS=1000000 bench/run-ingest-refresh-scale.sh   # quicker: one store
set -eu
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
GO=${GO:-go}

# Build once, so compile time is not measured and each program runs as the
# binary it is (the refresh and scale programs re-exec themselves).
$GO build -o "$out/ingest" ./bench/ingest
$GO build -o "$out/refresh" ./bench/refresh
$GO build -o "$out/scale" ./bench/scale

echo "== 1. Parse + normalize (targets: <= 1.2x the sanitizing floor, allocations per item <= 2x its)"
"$out/ingest" -benchtime "${INGEST_BENCHTIME:-1s}" -cpuprofile "$out/ingest.cpu.prof" | tee "$out/ingest.txt"
echo
echo "== 2. Refresh (targets: warm <= 1.2x, cold <= 2.5x the bare-GET baseline)"
drivers=sqlite
if why=$("$out/refresh" -probe-postgres 2>&1); then
	drivers=sqlite,postgres
	echo "(PostgreSQL answers: both stores measured, PostgreSQL in section 5 below)"
else
	echo "(section 5, PostgreSQL, skipped: ${why#refresh bench: })"
fi
"$out/refresh" -cpuprofile "$out/refresh.cpu.prof" -drivers "$drivers" -instances "${REFRESH_INSTANCES:-3}" | tee "$out/refresh.txt"
echo
if [ "$drivers" = sqlite,postgres ]; then
	echo "== 5. PostgreSQL (targets: warm refresh <= 1.3x SQLite's; ${REFRESH_INSTANCES:-3} instances sharing the sources fetch no source twice, in no more wall time than one)"
	grep -E '^PostgreSQL vs SQLite, warm|^[0-9]+ instances, ' "$out/refresh.txt" || echo "(no PostgreSQL results: see the refresh output above)"
	echo
fi
echo "== 4. Store scale (targets at 10,000 sources and 5M items: start-up < 2 s, peak RSS < 300 MB, a feed's render flat in items and logarithmic in sources, status page < 200 ms)"
"$out/scale" -items "${SCALE_ITEMS:-1000000,5000000}" -limit "${SCALE_LIMIT:-150s}" | tee "$out/scale.txt"
