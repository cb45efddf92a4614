#!/usr/bin/env bash
# with-zedge.sh starts bin/zedge on free loopback ports with DIR/data as its data directory (ZEDGE_* variables
# from the environment pass through and win), waits until it serves, runs COMMAND (which finds zedge's
# addresses in DIR/ready.json), and stops zedge when COMMAND ends or on Ctrl-C. zedge runs in a session of its
# own, so a Ctrl-C reaches COMMAND only (zedge-sim drains and reports), and zedge is stopped after it.
# Usage: scripts/with-zedge.sh DIR COMMAND [ARG...]
set -euo pipefail
dir=$1
shift
mkdir -p "$dir"
rm -f "$dir/ready.json"
export ZEDGE_HTTP_ADDR=${ZEDGE_HTTP_ADDR:-127.0.0.1:0} ZEDGE_MQTT_ADDR=${ZEDGE_MQTT_ADDR:-127.0.0.1:0} \
	ZEDGE_WS_ADDR=${ZEDGE_WS_ADDR:-127.0.0.1:0} ZEDGE_DATA_DIR=${ZEDGE_DATA_DIR:-$dir/data} \
	ZEDGE_READY_FILE=$dir/ready.json
setsid ./bin/zedge serve 2>"$dir/zedge.log" &
zpid=$!
trap 'kill $zpid 2>/dev/null; wait $zpid' EXIT
trap 'exit 130' INT TERM
while [ ! -s "$dir/ready.json" ]; do
	if ! kill -0 $zpid 2>/dev/null; then
		cat "$dir/zedge.log" >&2
		exit 1
	fi
	sleep 0.1
done
echo "zedge: $(cat "$dir/ready.json"), log in $dir/zedge.log"
"$@"
