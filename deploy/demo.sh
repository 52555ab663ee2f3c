#!/usr/bin/env bash
# demo.sh - the 2018-Q1 pipeline end to end on the local broker: PKI, simulate, import,
# aggregate, report. `make demo` runs it after installing and building.
#   DEMO_SCALE   share of the real volume (default 0.02; 1.0 = 2,779,000 documents)
#   DEMO_SEED    simulation seed (default 1)
#   DEMO_DIR     working directory (default build/demo)
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${DEMO_SCALE:-0.02}
seed=${DEMO_SEED:-1}
dir=${DEMO_DIR:-build/demo}
docbus="$PWD/build/docbus"
step() { printf '\n== %s\n' "$*" >&2; }

mkdir -p "$dir"
cd "$dir"
conf=docbus.conf
if [ ! -f "$conf" ]; then
  cat > "$conf" <<CONF
# docbus demo configuration (see \`docbus help config\`)
bootstrap.servers=${DOCBUS_BOOTSTRAP:-127.0.0.1:19092}
docbus.pki.dir=pki
docbus.state.dir=state
CONF
fi
export DOCBUS_CONFIG="$PWD/$conf"
# An existing configuration is kept (it may have been edited); one naming another broker
# than DOCBUS_BOOTSTRAP stops the demo rather than wait on the wrong one.
conf_boot=$(sed -n 's/^bootstrap\.servers=//p' "$conf" | tail -1)
if [ -n "${DOCBUS_BOOTSTRAP:-}" ] && [ "$conf_boot" != "$DOCBUS_BOOTSTRAP" ]; then
  echo "demo: $dir/$conf names bootstrap.servers=$conf_boot, not DOCBUS_BOOTSTRAP=$DOCBUS_BOOTSTRAP;" \
       "edit it or use a fresh DEMO_DIR" >&2
  exit 2
fi

step "starting the local Kafka broker"
"$OLDPWD/deploy/kafka/local.sh" start >&2

step "demo PKI: a root CA and one Ed25519 certificate per unit"
[ -f pki/ca.crt ] || "$docbus" pki init --dir pki
n=0
for unit in $("$docbus" units --codes); do
  if [ ! -f "pki/units/$unit.crt" ]; then
    "$docbus" pki issue --dir pki --unit "$unit" --name "$unit" 2>/dev/null
    n=$((n + 1))
  fi
done
echo "issued $n new unit certificates ($(ls pki/units/*.crt | wc -l) in all)" >&2

step "simulating hcmc-2018q1 at scale $scale (seed $seed)"
data="hcmc-2018q1-$scale-$seed.jsonl"
[ -s "$data" ] || "$docbus" simulate --profile hcmc-2018q1 --scale "$scale" --seed "$seed" --out "$data"
echo "$(wc -l < "$data") records in $dir/$data" >&2

step "importing (signed in batches, idempotent: a second run counts nothing twice)"
"$docbus" import "$data"

step "aggregating until caught up (exactly once)"
"$docbus" aggregate --until-caught-up

step "the report of Quý I/2018"
"$docbus" report --quarter 2018-Q1 --format html --out report-2018q1.html
"$docbus" report --quarter 2018-Q1
echo >&2
echo "HTML report: $PWD/report-2018q1.html" >&2
echo "JSON: build/docbus report --quarter 2018-Q1 --format json   (with DOCBUS_CONFIG=$PWD/$conf)" >&2
