#!/usr/bin/env bash
# fuzz.sh runs every testing.F fuzzer of the module for a short time each (FUZZTIME, default 5s).
# go test can fuzz only one target of one package per run, so this finds them and runs them one by one.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5s}
go=${GO:-go}
found=0
while IFS= read -r file; do
	dir=./$(dirname "$file")
	while IFS= read -r name; do
		found=$((found + 1))
		echo "fuzz: $dir $name ($fuzztime)"
		"$go" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir"
	done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' "$file")
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sed 's|^\./||' | sort)
echo "fuzz: ran $found fuzzers"
