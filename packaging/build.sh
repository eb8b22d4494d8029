#!/usr/bin/env bash
# Build the one-folder app into dist/<variant>/reelseek/ (docs/packaging.md).
#   packaging/build.sh          CPU build: no triton, only the NVIDIA libraries torch needs to import
#   packaging/build.sh --gpu    full CUDA build (torch on NVIDIA GPUs; several GB more)
# Runs with $PYTHON (default: .venv/bin/python, else python3), where reelseek and the
# `packaging` extra are installed: pip install -c packaging/constraints.txt -e ".[packaging]"
set -euo pipefail
cd "$(dirname "$0")/.."

variant=cpu
for arg in "$@"; do
  case "$arg" in
    --gpu) variant=gpu ;;
    --cpu) variant=cpu ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg (use --cpu or --gpu)" >&2; exit 2 ;;
  esac
done

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: PyInstaller is not installed for $PYTHON;" \
       "run: pip install -c packaging/constraints.txt -e '.[packaging]'" >&2
  exit 2
fi
if ! command -v ldd >/dev/null || ! command -v objdump >/dev/null; then
  echo "build.sh: PyInstaller needs ldd and objdump (apt-get install binutils)" >&2
  exit 2
fi

start=$(date +%s)
REELSEEK_BUILD_VARIANT="$variant" "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "dist/$variant" --workpath "build/$variant" packaging/reelseek.spec
app="dist/$variant/reelseek"
echo "build.sh: $variant build in $(( $(date +%s) - start )) s: $app ($(du -sh "$app" | cut -f1))"
