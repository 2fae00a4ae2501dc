#!/usr/bin/env bash
# The installed hallq works outside the checkout: build a wheel, install it into a fresh
# venv in an empty folder, check the packaged demo hall and run the quick headless demo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "wheel test: building the wheel"
# from a copy of the files git would commit: an in-tree build/ would keep stale modules
mkdir "$work/src"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$work/src" 2>/dev/null || true
test -f "$work/src/pyproject.toml"
.venv/bin/python -m pip wheel -q --no-deps -w "$work/dist" "$work/src" >/dev/null
wheel=$(ls "$work"/dist/hallq-*.whl)
"${PYTHON:-python3}" -m venv "$work/venv"
# (this machine's pip config names local indexes that may be absent; their warnings are noise)
"$work/venv/bin/python" -m pip install -q "$wheel" 2> >(grep -v "^WARNING: Location" >&2)

mkdir "$work/empty"
cd "$work/empty"
hallq=$work/venv/bin/hallq
default=$("$work/venv/bin/python" -c 'from caller.core.config import default_config_path; print(default_config_path())')
case "$default" in
  "$repo"/*) echo "wheel test: the packaged config resolves into the checkout ($default)" >&2; exit 1 ;;
esac
echo "wheel test: hallq check-config $default"
"$hallq" check-config "$default" >/dev/null
echo "wheel test: hallq demo --headless --quick (in an empty folder)"
"$hallq" demo --headless --quick > demo.log 2>&1 || { tail -40 demo.log >&2; exit 1; }
test -s out/demo/summary.md || { echo "wheel test: the demo wrote no summary" >&2; exit 1; }
if grep -q '\[FAIL\]' out/demo/summary.md; then grep '\[FAIL\]' out/demo/summary.md >&2; exit 1; fi
echo "wheel test: ok"
