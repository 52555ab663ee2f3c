#!/usr/bin/env bash
# report_browser.sh - the HTML report of the golden 2018-Q1 model in headless Chromium:
# every section and chart of schemas/templates/index is in the DOM after load, every
# chart is an SVG, nothing refers to the network; leaves a screenshot in
# build/report-2018q1.png. The HTML comes from build/tests/test_render --html (and, when
# the docbus command has "report", docbus's own output must be identical). Exit 0/1.
set -uo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
model=tests/golden/report-model-2018q1.json
index=schemas/templates/index
html=$BUILD/report-2018q1.html
png=$BUILD/report-2018q1.png
chromium=${CHROMIUM:-/usr/bin/chromium}
work=$(mktemp -d /tmp/report_browser.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

if [ ! -x "$chromium" ]; then
  echo "FAIL: $chromium is not installed (deploy/deps.sh installs the Debian package chromium)"
  exit 1
fi
if [ ! -x "$BUILD/tests/test_render" ]; then
  make --no-print-directory -s "$BUILD/tests/test_render" || { echo "FAIL: cannot build test_render"; exit 1; }
fi
"$BUILD/tests/test_render" --html "$html" || { echo "FAIL: rendering $html"; exit 1; }

# The docbus command, once it has "report", must produce the same page.
if [ -x "$BUILD/docbus" ] && "$BUILD/docbus" report --help > /dev/null 2>&1; then
  if "$BUILD/docbus" report --model "$model" --format html --template-dir schemas/templates \
       --out "$work/docbus.html"; then
    cmp -s "$html" "$work/docbus.html" || fail "docbus report --format html differs from render_html"
  else
    fail "docbus report --model $model --format html exited $?"
  fi
fi

# The ids the index promises (same rules as lib/render.c).
ids=()
while read -r id file charts; do
  case $id in ''|'#'*) continue ;; esac
  ids+=("sec-$id")
  for c in $charts; do
    case $c in
      series:*) f=${c#series:}; ids+=("chart-${f//./-}") ;;
      split:*) f=${c#split:}; ids+=("chart-${f//./-}-split") ;;
      top:*) ids+=("chart-top-units-${c#top:}") ;;
    esac
  done
done < "$index"
n_charts=$(printf '%s\n' "${ids[@]}" | grep -c '^chart-')

browser() {
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" "$@" "file://$PWD/$html"
}

browser --dump-dom > "$work/dom.html" 2> "$work/chromium-dom.log" || {
  cat "$work/chromium-dom.log"; fail "chromium --dump-dom failed"; }
grep -q '<html lang="vi"' "$work/dom.html" || fail 'no <html lang="vi"> in the DOM'
for id in "${ids[@]}"; do
  grep -q "id=\"$id\"" "$work/dom.html" || fail "no element id=\"$id\" in the DOM after load"
done
svgs=$(grep -o '<svg' "$work/dom.html" | wc -l)
[ "$svgs" -eq "$n_charts" ] || fail "$svgs <svg> elements in the DOM, the index lists $n_charts charts"
if grep -Eq '(src|href)="[a-z]+:' "$work/dom.html" || grep -Eq 'https?://' "$html"; then
  fail "the page refers to an outside resource"
fi

rm -f "$png"
browser --screenshot="$png" --window-size=1200,4000 > "$work/chromium-shot.log" 2>&1 || {
  cat "$work/chromium-shot.log"; fail "chromium --screenshot failed"; }
size=$(stat -c %s "$png" 2>/dev/null || echo 0)
[ "$size" -gt 20000 ] || fail "screenshot $png is missing or nearly empty ($size bytes)"

echo "${#ids[@]} ids checked ($n_charts charts), screenshot $png ($size bytes)"
[ $fails -eq 0 ] && echo "report_browser: ok" && exit 0
echo "report_browser: $fails failure(s)"
exit 1
