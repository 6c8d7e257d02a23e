#!/usr/bin/env bash
# Adds up the results of every test runner in a `make test` log and prints one closing line,
# "total: N passed, M failed". Exits non-zero when something failed or nothing ran.
set -euo pipefail
log="$1"
read -r passed failed < <(awk '
  /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
  /^Ran [0-9]+ test suites/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^tests$/ && $(i+2) ~ /^passed,/) p += $i; if ($(i+1) ~ /^failed,/) f += $i } }
  END { print p + 0, f + 0 }' "$log")
echo "total: ${passed} passed, ${failed} failed"
[[ "$failed" -eq 0 && "$passed" -gt 0 ]]
