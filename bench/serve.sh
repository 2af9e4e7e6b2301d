#!/usr/bin/env bash
# bench/serve.sh: issues 6 and 17 (serving). Measures GET /feeds/all.{atom,rss,json}
# on feedmill against two references serving the very same bytes with the
# same headers: bench/serveref (a bare net/http handler of precomputed bytes,
# the limit of Go's HTTP stack) and nginx (sendfile, gzip_static, etag: the
# outside anchor). feedmill runs a production config (base_url, the built-in
# WebSub hub, so every answer carries the hub and self Link lines; /metrics
# counting every request), and before each bare run the script checks that
# serveref answers with exactly feedmill's header fields. Each server is
# pinned to core 0 and wrk to core 1; in every round feedmill and the bare
# reference run in the order A B B A (B A A B in the next), a second each,
# so that a drift of the machine's speed within the round weighs on both
# alike, and nginx once. The ratios are taken within each round, and the
# median over the rounds is reported beside the lowest and highest: on a
# shared virtual machine one run in ten loses a third of its speed to a
# neighbour, which a ratio of whole-run medians passed on. Then
# one run against a feedmill doing its initial refresh of a 1,000-feed farm,
# for p99 under load.
#
# Usage: bench/serve.sh            (from anywhere; needs root for apt-get, or
#                                   wrk, nginx and taskset already installed)
# Knobs: DURATION=1s ROUNDS=15 CONNS=64 REFRESH_DURATION=15s FARM_FEEDS=1000
#        FARM_ITEMS=50 OUT=bench/out/serve.md KEEP=1 (keep the work directory)
# Benchmarks report; nothing here fails on a number.
set -euo pipefail

DURATION=${DURATION:-1s}
ROUNDS=${ROUNDS:-15}
CONNS=${CONNS:-64}
REFRESH_DURATION=${REFRESH_DURATION:-15s}
FARM_FEEDS=${FARM_FEEDS:-1000}
FARM_ITEMS=${FARM_ITEMS:-50}
OUT=${OUT:-bench/out/serve.md}
# Ports, all on loopback.
P_FARM=18901 P_BIGFARM=18902 P_FEEDMILL=18080 P_BARE=18081 P_NGINX=18082 P_LOADED=18083

cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/feedmill-serve.XXXXXX)
chmod 755 "$WORK" # nginx's worker runs as nobody
PIDS=()

log() { printf '%s serve.sh: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- tools -----------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing ${missing[*]}"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	else
		die "missing ${missing[*]}: run  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
	fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on core 0, wrk on core 1); this machine has $(nproc)"
CLK_TCK=$(getconf CLK_TCK)

# --- build -----------------------------------------------------------------
log "building"
make -s build
go build -o "$WORK/servefarm" ./bench/servefarm
go build -o "$WORK/serveref" ./bench/serveref

# wait_http URL [SECONDS]: until URL answers 200.
wait_http() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
		sleep 0.1
	done
	die "$1 did not answer 200"
}

# healthz_field PORT FIELD: a number from feedmill's /healthz.
healthz_field() {
	curl -s "http://127.0.0.1:$1/healthz" | sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" | head -1
}

# --- feedmill on a small farm: 10 sources x 10 items of ~2 KB ----------------
log "starting the small farm and feedmill"
taskset -c 1 "$WORK/servefarm" -feeds 10 -items 10 -content 2048 -hosts 1 -port $P_FARM -delay 0s \
	-config "$WORK/small.yaml" -listen 127.0.0.1:$P_FEEDMILL -dsn "$WORK/small.db" 2>"$WORK/farm.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$P_FARM/feed/0.xml"
taskset -c 0 "$ROOT/bin/feedmill" serve -config "$WORK/small.yaml" -log-level warn 2>"$WORK/feedmill.log" &
FEEDMILL=$!
PIDS+=($FEEDMILL)
wait_http "http://127.0.0.1:$P_FEEDMILL/healthz"
for ((i = 0; i < 300; i++)); do
	[ "$(healthz_field $P_FEEDMILL never_fetched)" = 0 ] && [ "$(healthz_field $P_FEEDMILL items)" -ge 100 ] && break
	sleep 0.1
done
[ "$(healthz_field $P_FEEDMILL items)" -ge 100 ] || die "feedmill stored $(healthz_field $P_FEEDMILL items) items, want 100; see $WORK/feedmill.log"
sleep 1 # the last refresh's publish

# --- the same bytes for the references ---------------------------------------
DOCS=$WORK/docs
mkdir -p "$DOCS" "$WORK/nginx/feeds"
for f in atom rss json; do
	curl -sf -D "$DOCS/all.$f.hdr" -o "$DOCS/all.$f" "http://127.0.0.1:$P_FEEDMILL/feeds/all.$f"
	curl -sf -H 'Accept-Encoding: gzip' -D "$DOCS/all.$f.gz.hdr" -o "$DOCS/all.$f.gz" "http://127.0.0.1:$P_FEEDMILL/feeds/all.$f"
	grep -qi '^content-encoding: gzip' "$DOCS/all.$f.gz.hdr" || die "feedmill sent all.$f without gzip to a gzip client"
	grep -qi '^link: .*rel="hub"' "$DOCS/all.$f.hdr" || die "feedmill sent all.$f without the WebSub hub's Link: not a production config"
	cp "$DOCS/all.$f" "$DOCS/all.$f.gz" "$WORK/nginx/feeds/"
	lm=$(sed -n 's/^[Ll]ast-[Mm]odified: *\(.*\)\r$/\1/p' "$DOCS/all.$f.hdr")
	touch -d "$lm" "$WORK/nginx/feeds/all.$f" "$WORK/nginx/feeds/all.$f.gz"
done
ENTRIES=$(grep -o '<entry>' "$DOCS/all.atom" | wc -l)
log "all.atom: $ENTRIES entries, $(stat -c %s "$DOCS/all.atom") bytes, $(stat -c %s "$DOCS/all.atom.gz") gzipped"

hdr() { sed -n "s/^$2: *\(.*\)\r\$/\1/Ip" "$1" | head -1; }
# nginx gets the headers feedmill sends, except the ones it makes itself
# (ETag, Last-Modified, Vary through gzip_vary, Content-Length).
{
	cat <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	etag on;
	gzip_static on;
	gzip_vary on;
	keepalive_requests 1000000;
	types { }
	server {
		listen 127.0.0.1:$P_NGINX;
		root $WORK/nginx;
CONF
	for f in atom rss json; do
		printf '\t\tlocation = /feeds/all.%s {\n\t\t\tdefault_type "%s";\n' "$f" "$(hdr "$DOCS/all.$f.hdr" content-type)"
		grep -iE '^(cache-control|x-content-type-options|link):' "$DOCS/all.$f.hdr" | tr -d '\r' |
			while IFS= read -r line; do
				printf '\t\t\tadd_header %s "%s";\n' "${line%%:*}" "$(echo "${line#*:}" | sed 's/^ *//; s/"/\\"/g')"
			done
		printf '\t\t}\n'
	done
	printf '\t}\n}\n'
} >"$WORK/nginx.conf"
"$NGINX" -t -q -c "$WORK/nginx.conf" -p "$WORK" 2>"$WORK/nginx.err" || die "nginx config: $(cat "$WORK/nginx.err")"

taskset -c 0 "$WORK/serveref" -dir "$DOCS" -listen 127.0.0.1:$P_BARE 2>"$WORK/serveref.log" &
BARE=$!
PIDS+=($BARE)
taskset -c 0 "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
PIDS+=($NGINX_PID)
wait_http "http://127.0.0.1:$P_BARE/feeds/all.atom"
wait_http "http://127.0.0.1:$P_NGINX/feeds/all.atom"

declare -A PORT=([feedmill]=$P_FEEDMILL [bare]=$P_BARE [nginx]=$P_NGINX)
# server_pids NAME: the processes whose CPU time counts (nginx: master and worker).
server_pids() {
	case $1 in
	feedmill) echo $FEEDMILL ;;
	bare) echo $BARE ;;
	nginx) echo $NGINX_PID $(pgrep -P $NGINX_PID) ;;
	esac
}
cpu_ticks() {
	local t=0 p f
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat"
		t=$((t + f[13] + f[14]))
	done
	echo $t
}

cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
		latency:percentile(50), latency:percentile(99),
		e.connect + e.read + e.write + e.status + e.timeout))
end
LUA

# header_fields URL [CURL ARGS]: the header fields of the answer, one a
# line, names in lower case, sorted, without Date (which differs by the
# second) and without the status line.
header_fields() {
	local url=$1
	shift
	curl -s -o /dev/null -D - "$@" "$url" | tr -d '\r' | sed '1d; /^$/d; /^[Dd]ate:/d' |
		awk '{ i = index($0, ":"); printf "%s:%s\n", tolower(substr($0, 1, i - 1)), substr($0, i + 1) }' | sort
}

# headers_for SERVER FORMAT PATH: set HDRS, the wrk header flags for the
# cell, after checking with curl that the server answers it as expected
# (status and byte count), so that no fast number comes from a wrong
# answer; for the bare reference, also that it answers with exactly
# feedmill's header fields, so that the ratio measures feedmill's work
# and not a difference in what is sent.
headers_for() {
	local server=$1 f=$2 path=$3 url="http://127.0.0.1:${PORT[$1]}/feeds/all.$2" etag want got
	case $path in
	200) want="200 $(stat -c %s "$DOCS/all.$f")"; HDRS=() ;;
	200gz) want="200 $(stat -c %s "$DOCS/all.$f.gz")"; HDRS=(-H 'Accept-Encoding: gzip') ;;
	304)
		etag=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$url" | sed -n 's/^[Ee][Tt]ag: *\(.*\)\r$/\1/p')
		want="304 0"
		HDRS=(-H 'Accept-Encoding: gzip' -H "If-None-Match: $etag")
		;;
	esac
	got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${HDRS[@]}" "$url")
	[ "$got" = "$want" ] || die "$server all.$f $path: got $got, want $want"
	if [ "$server" = bare ]; then
		diff <(header_fields "http://127.0.0.1:$P_FEEDMILL/feeds/all.$f" "${HDRS[@]}") <(header_fields "$url" "${HDRS[@]}") >"$WORK/header.diff" ||
			die "bare all.$f $path: not feedmill's header fields (< feedmill, > bare): $(cat "$WORK/header.diff")"
	fi
}

# run SERVER FORMAT PATH ROUND: one wrk run, one line in results
# (request|server|req/s|p50|p99|CPU µs/req|round).
RESULTS=$WORK/results
: >"$RESULTS"
run() {
	local server=$1 f=$2 path=$3 round=$4 pids before after out
	headers_for "$server" "$f" "$path"
	pids=$(server_pids "$server")
	before=$(cpu_ticks $pids)
	out=$(taskset -c 1 wrk -t2 -c"$CONNS" -d"$DURATION" -s "$WORK/report.lua" "${HDRS[@]}" \
		"http://127.0.0.1:${PORT[$server]}/feeds/all.$f" | sed -n 's/^RESULT //p')
	after=$(cpu_ticks $pids)
	read -r req dur p50 p99 errs <<<"$out"
	[ "$errs" = 0 ] || log "$server all.$f $path: $errs errors"
	# requests/s, p50 ms, p99 ms, CPU µs per request
	awk -v s="$server" -v c="$f $path" -v r="$req" -v d="$dur" -v a="$p50" -v b="$p99" -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$round" \
		'BEGIN { printf "%s|%s|%.0f|%.2f|%.2f|%.1f|%d\n", c, s, r / (d / 1e6), a / 1e3, b / 1e3, t * 1e6 / hz / r, n }' >>"$RESULTS"
	log "$(tail -1 "$RESULTS")"
}

# The cells: the two targeted paths (gzip 200 and 304) of each format
# (add atom:200 to CELLS for the identity coding, which has no target).
CELLS=${CELLS:-"atom:200gz atom:304 rss:200gz rss:304 json:200gz json:304"}
SERVERS=(feedmill bare nginx)
log "measuring: $CELLS; $ROUNDS rounds of $DURATION, $CONNS connections"
# In each round and cell, feedmill and the bare reference run in the
# order A B B A (B A A B in the next round), so that a drift of the
# machine's speed over those seconds weighs on both alike, and each
# server's rate in the round is the mean of its two runs; nginx runs
# after them, first in every third round.
for ((round = 0; round < ROUNDS; round++)); do
	if ((round % 2 == 0)); then order=(feedmill bare bare feedmill); else order=(bare feedmill feedmill bare); fi
	if ((round % 3 == 0)); then order=(nginx "${order[@]}"); else order+=(nginx); fi
	for cell in $CELLS; do
		for server in "${order[@]}"; do
			run "$server" "${cell%%:*}" "${cell##*:}" "$round"
		done
	done
done

# Metrics were on: feedmill counted what wrk asked of it.
COUNTED=$(curl -s "http://127.0.0.1:$P_FEEDMILL/metrics" |
	awk '/^feedmill_http_feed_requests_total\{/ { n += $NF } END { printf "%.0f", n }')
[ "${COUNTED:-0}" -gt 0 ] || [ "$ROUNDS" = 0 ] || die "feedmill's /metrics counted no feed request: metrics are not on"

# --- under load: feedmill doing its first refresh of a 1,000-feed farm -------
log "starting the $FARM_FEEDS-feed farm and a fresh feedmill"
taskset -c 1 "$WORK/servefarm" -feeds "$FARM_FEEDS" -items "$FARM_ITEMS" -content 1024 -hosts 5 -port $P_BIGFARM -delay 20ms \
	-config "$WORK/big.yaml" -listen 127.0.0.1:$P_LOADED -dsn "$WORK/big.db" 2>"$WORK/bigfarm.log" &
PIDS+=($!)
wait_http "http://127.0.0.5:$P_BIGFARM/feed/4.xml"
START_NS=$(date +%s%N)
taskset -c 0 "$ROOT/bin/feedmill" serve -config "$WORK/big.yaml" -log-level warn 2>"$WORK/loaded.log" &
LOADED=$!
PIDS+=($LOADED)
PORT[loaded]=$P_LOADED
wait_http "http://127.0.0.1:$P_LOADED/feeds/all.atom"
never_before=$(healthz_field $P_LOADED never_fetched)
before=$(cpu_ticks $LOADED)
out=$(taskset -c 1 wrk -t2 -c"$CONNS" -d"$REFRESH_DURATION" -s "$WORK/report.lua" -H 'Accept-Encoding: gzip' \
	"http://127.0.0.1:$P_LOADED/feeds/all.atom" | sed -n 's/^RESULT //p')
after=$(cpu_ticks $LOADED)
never_after=$(healthz_field $P_LOADED never_fetched)
read -r req dur p50 p99 errs <<<"$out"
for ((i = 0; i < 1800; i++)); do
	[ "$(healthz_field $P_LOADED never_fetched)" = 0 ] && break
	sleep 0.1
done
REFRESH_S=$(awk -v a="$START_NS" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
LOADED_ITEMS=$(healthz_field $P_LOADED items)

# --- report ----------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
{
	echo "Serve benchmark, $(date -u +%F), $(nproc) cores: $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)"
	echo "$(go version), $("$NGINX" -v 2>&1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
	echo "wrk -t2 -c$CONNS -d$DURATION on core 1, server on core 0; $ROUNDS rounds, feedmill and bare in the order A B B A or B A A B in each (a server's rate in a round is the mean of its two runs), nginx once; the first table gives each server's median over its runs, the ratios are each round's, their median reported with the lowest and highest"
	echo "feedmill: base_url, built-in WebSub hub (Link: hub and self on every answer), metrics on ($COUNTED feed requests counted in /metrics); serveref checked to send feedmill's header fields in every cell"
	echo "all.atom: $ENTRIES entries, $(stat -c %s "$DOCS/all.atom") bytes ($(stat -c %s "$DOCS/all.atom.gz") gzipped); rss $(stat -c %s "$DOCS/all.rss") ($(stat -c %s "$DOCS/all.rss.gz")); json $(stat -c %s "$DOCS/all.json") ($(stat -c %s "$DOCS/all.json.gz"))"
	echo
	echo "| request | server | req/s | p50 ms | p99 ms | CPU µs/req |"
	echo "|---|---|---:|---:|---:|---:|"
	# Median per cell and server of each column.
	awk -F'|' '
		{ k = $1 "|" $2; n[k]++; for (i = 3; i <= 6; i++) v[k, i, n[k]] = $i; if (!(k in seen)) { seen[k] = 1; order[++m] = k }
		  runs[$1, $2, $7]++; rps[$1, $2, $7] += ($3 - rps[$1, $2, $7]) / runs[$1, $2, $7]; if ($7 + 1 > rounds) rounds = $7 + 1 }
		function sorted(a, c,   j, l, t) {
			for (j = 1; j <= c; j++) for (l = j + 1; l <= c; l++) if (a[l] < a[j]) { t = a[j]; a[j] = a[l]; a[l] = t }
		}
		function median(a, c) { sorted(a, c); return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2 }
		function med(k, i,   c, j, a) { c = n[k]; for (j = 1; j <= c; j++) a[j] = v[k, i, j] + 0; return median(a, c) }
		# ratio(cell, a, b): the median over rounds of server a'"'"'s req/s over b'"'"'s in
		# the same round; lo and hi get the lowest and highest round.
		function ratio(c, a, b,   q, cnt, r) {
			cnt = 0
			for (q = 0; q < rounds; q++) if (((c, a, q) in rps) && ((c, b, q) in rps) && rps[c, b, q] > 0) r[++cnt] = rps[c, a, q] / rps[c, b, q]
			if (!cnt) return 0
			sorted(r, cnt); lo = r[1]; hi = r[cnt]
			return median(r, cnt)
		}
		END {
			for (j = 1; j <= m; j++) { k = order[j]; split(k, p, "|")
				printf "| %s | %s | %.0f | %.2f | %.2f | %.1f |\n", p[1], p[2], med(k, 3), med(k, 4), med(k, 5), med(k, 6) }
			print ""
			print "| request | feedmill/bare, median of rounds (target) | lowest, highest round | feedmill/nginx | bare/nginx (expected ~0.6 on 200, ~0.75 on 304) |"
			print "|---|---:|---|---:|---:|"
			for (j = 1; j <= m; j++) { k = order[j]; split(k, p, "|"); if (p[2] != "feedmill") continue
				c = p[1]; fb = ratio(c, "feedmill", "bare"); flo = lo; fhi = hi
				fx = ratio(c, "feedmill", "nginx"); bx = ratio(c, "bare", "nginx")
				targeted = c ~ /200gz|304/
				printf "| %s | %.2f%s%s | %.2f, %.2f | %.2f | %.2f |\n", c, fb, targeted ? " (>= 0.95)" : " (none)", (targeted && fb < 0.95) ? " MISSED" : "", flo, fhi, fx, bx
				for (q = 1; q <= 2; q++) { pat = q == 1 ? "200gz" : "304"; if (c !~ pat) continue
					if (!(q in qlo) || fb < qlo[q]) qlo[q] = fb; if (!(q in qhi) || fb > qhi[q]) qhi[q] = fb
					nx[q] += fx; cnt[q]++ } }
			print ""
			for (q = 1; q <= 2; q++) { if (!cnt[q]) continue
				printf "%s: feedmill/bare %.2f to %.2f over %d cells (target >= 0.95 in every cell: %s); feedmill/nginx %.2f on average\n",
					q == 1 ? "200 gzip" : "304", qlo[q], qhi[q], cnt[q], qlo[q] >= 0.95 ? "met" : "MISSED", nx[q] / cnt[q] }
		}' "$RESULTS"
	echo
	echo "During the initial refresh of $FARM_FEEDS feeds x $FARM_ITEMS items (5 hosts, 20 ms each; farm on core 1 beside wrk):"
	awk -v r="$req" -v d="$dur" -v a="$p50" -v b="$p99" -v e="$errs" -v t=$((after - before)) -v hz="$CLK_TCK" \
		'BEGIN { printf "all.atom gzip, %s: %.0f req/s, p50 %.2f ms, p99 %.2f ms (target < 50 ms%s), %d errors; feedmill CPU %.1f µs/req including the refresh\n",
			"'"$REFRESH_DURATION"'", r / (d / 1e6), a / 1e3, b / 1e3, (b / 1e3 < 50 ? ", met" : ", MISSED"), e, t * 1e6 / hz / r }'
	echo "sources not yet fetched: $never_before of $FARM_FEEDS when the run began, $never_after when it ended; the whole refresh took ${REFRESH_S} s from start-up; $LOADED_ITEMS items stored"
} | tee "$OUT"
log "results also in $OUT"
