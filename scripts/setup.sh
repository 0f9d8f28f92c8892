#!/usr/bin/env bash
# Installs what rkeras needs beyond the Rust toolchain: the system HDF5 library (for .h5 files) and pkg-config,
# Graphviz (plot_model's SVG/PNG through `dot`), Open MPI (for the `mpi` feature),
# and the Python Keras the cross-check tests run (a venv in .venv-keras, from scripts/keras-requirements.txt).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

install_hdf5() {
    pkg-config --exists hdf5 2>/dev/null && return 0
    local packages="libhdf5-dev pkg-config"
    echo "rkeras: installing the HDF5 library ($packages)…" >&2
    if [ "$(id -u)" -eq 0 ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages) >&2
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages) >&2
    else
        echo "rkeras: the HDF5 library is missing and cannot be installed without root." >&2
        echo "        Install it yourself (Debian/Ubuntu: sudo apt-get install $packages;" >&2
        echo "        Fedora: sudo dnf install hdf5-devel pkgconf; macOS: brew install hdf5 pkg-config) and retry." >&2
        exit 1
    fi
    pkg-config --exists hdf5 || { echo "rkeras: HDF5 still not found by pkg-config" >&2; exit 1; }
}

# Graphviz's `dot`: plot_model and `rkeras plot-model` render SVG/PNG with it (their test fails under CI=true
# without it). Elsewhere a missing Graphviz is a notice: .dot output works without it.
install_graphviz() {
    command -v dot >/dev/null 2>&1 && return 0
    echo "rkeras: installing Graphviz (graphviz)…" >&2
    if [ "$(id -u)" -eq 0 ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz) >&2
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz) >&2
    else
        echo "rkeras: Graphviz is missing and cannot be installed without root (Debian/Ubuntu: sudo apt-get" >&2
        echo "        install graphviz; Fedora: sudo dnf install graphviz; macOS: brew install graphviz)." >&2
        if [ "${CI:-}" = "true" ]; then
            exit 1
        fi
        return 0
    fi
    command -v dot >/dev/null 2>&1 || { echo "rkeras: Graphviz's dot still not found" >&2; exit 1; }
}

# Open MPI (the library, mpirun and the headers the `mpi` feature's bindings are generated from, with libclang).
install_mpi() {
    command -v mpirun >/dev/null 2>&1 && [ -e /usr/include/x86_64-linux-gnu/mpi/mpi.h -o -e /usr/include/mpi.h ] \
        && ldconfig -p 2>/dev/null | grep -q libclang && return 0
    local packages="libopenmpi-dev openmpi-bin libclang-dev"
    echo "rkeras: installing Open MPI ($packages)…" >&2
    if [ "$(id -u)" -eq 0 ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages) >&2
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages) >&2
    else
        echo "rkeras: Open MPI is missing and cannot be installed without root (needed by --features rkeras/mpi)." >&2
        echo "        Install it yourself (Debian/Ubuntu: sudo apt-get install $packages;" >&2
        echo "        Fedora: sudo dnf install openmpi-devel clang-devel; macOS: brew install open-mpi llvm) and retry." >&2
        exit 1
    fi
    command -v mpirun >/dev/null 2>&1 || { echo "rkeras: mpirun still not found" >&2; exit 1; }
}

# The venv is current when its stamp holds the requirements it was built from.
install_keras() {
    local venv="$repo/.venv-keras" requirements="$repo/scripts/keras-requirements.txt"
    if [ -n "${KERAS_PYTHON:-}" ]; then
        return 0
    fi
    if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/rkeras-requirements.txt"; then
        return 0
    fi
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
        echo "rkeras: no Python >= 3.10 with venv ($python); the Keras cross-check tests need one." >&2
        if [ "${CI:-}" = "true" ]; then
            exit 1
        fi
        echo "        Those tests will print a notice and not run. Install python3-venv and rerun, or set KERAS_PYTHON." >&2
        return 0
    fi
    echo "rkeras: creating $venv (Keras 3 on JAX CPU, h5py, TensorBoard's reader; about 2.5 minutes)…" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$venv/rkeras-requirements.txt"
}

install_hdf5
install_graphviz
install_mpi
install_keras
