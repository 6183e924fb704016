# shellcheck shell=bash
# Installs the Debian 12 packages Losscape needs, only those that are missing.
# Sourced by scripts/test, scripts/bench and scripts/run, which then call `losscape_install_deps`;
# it can also be run on its own: `bash scripts/lib/install-deps.sh`.
#
#   LOSSCAPE_SKIP_DEPS=1      skip the check entirely (e.g. a machine without apt)
#   LOSSCAPE_DEPS_DRY_RUN=1   print the apt-get commands instead of running them

# gnuplot-nox comes first and is installed on its own: libgnuplot-iostream-dev depends on the
# `gnuplot` metapackage, which apt would otherwise satisfy with the Qt build (and its X stack).
LOSSCAPE_GNUPLOT_PKG=gnuplot-nox
LOSSCAPE_DEPS=(libopenblas-dev libedit-dev libgnuplot-iostream-dev dataset-fashion-mnist zlib1g-dev)

losscape_say() { printf '==> %s\n' "$*" >&2; }

# True when dpkg reports the package fully installed (not removed, not half-configured).
losscape_pkg_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ "$status" == "install ok installed" ]]
}

# Runs a command as root: directly when we are root, else through sudo.
losscape_as_root() {
    if [[ -n "${LOSSCAPE_DEPS_DRY_RUN:-}" ]]; then
        printf '[dry run] %s\n' "$*" >&2
        return 0
    fi
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        losscape_say "need root to run: $* (not root, and no sudo)"
        return 1
    fi
}

losscape_apt_install() {
    losscape_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

losscape_install_deps() {
    if [[ -n "${LOSSCAPE_SKIP_DEPS:-}" ]]; then
        losscape_say "skipping system packages (LOSSCAPE_SKIP_DEPS is set)"
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        losscape_say "no dpkg-query: not a Debian system; install by hand: $LOSSCAPE_GNUPLOT_PKG ${LOSSCAPE_DEPS[*]}"
        return 1
    fi

    local need_gnuplot="" missing=() pkg
    losscape_pkg_installed "$LOSSCAPE_GNUPLOT_PKG" || need_gnuplot=$LOSSCAPE_GNUPLOT_PKG
    for pkg in "${LOSSCAPE_DEPS[@]}"; do
        losscape_pkg_installed "$pkg" || missing+=("$pkg")
    done
    if [[ -z "$need_gnuplot" && ${#missing[@]} -eq 0 ]]; then
        losscape_say "system packages: all present"
        return 0
    fi

    local all=("${missing[@]}")
    [[ -n "$need_gnuplot" ]] && all=("$need_gnuplot" "${all[@]}")
    losscape_say "missing system packages: ${all[*]}"
    losscape_say "apt-get update"
    losscape_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
    if [[ -n "$need_gnuplot" ]]; then
        losscape_say "installing $need_gnuplot"
        losscape_apt_install "$need_gnuplot" || return 1
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        losscape_say "installing ${missing[*]}"
        losscape_apt_install "${missing[@]}" || return 1
    fi
    losscape_say "system packages: installed"
}

# Run directly (not sourced): install and exit.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    losscape_install_deps
fi
