# Helpers shared by the eng/ scripts. Source it; it defines functions only.
#
#   step "name"                    announce a step (==> name) and time the previous one;
#                                  with fail_loudly, a failure after it prints FAILED: name
#   ensure_debian_packages p...    apt-get install the packages that are not installed yet

_step=""
_step_started=$SECONDS

step() {
    if [[ -n "$_step" ]]; then
        echo "    ($_step: $((SECONDS - _step_started)) s)"
    fi
    _step="$1"
    _step_started=$SECONDS
    echo "==> $1"
}

# Call once from a script's top level: any non-zero exit names the step that failed.
fail_loudly() {
    trap '_rc=$?; if [[ $_rc -ne 0 && -n "$_step" ]]; then echo "FAILED: $_step" >&2; fi; exit $_rc' EXIT
}

# Stops the script: prints why (on stderr) and exits non-zero; the EXIT trap names the step.
die() {
    echo "error: $*" >&2
    exit 1
}

# True if the Debian package is installed.
debian_package_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# Installs, non-interactively, the given Debian packages that are missing. Runs `apt-get update` at
# most once per test run (USERSTREAM_APT_UPDATED is exported to the child scripts).
ensure_debian_packages() {
    local missing=() package
    for package in "$@"; do
        debian_package_installed "$package" || missing+=("$package")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "    already installed: $*"
        return 0
    fi

    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "missing packages (${missing[*]}): run as root or install them by hand"
        sudo=(sudo -n)
    fi

    echo "    installing from Debian: ${missing[*]}"
    if [[ -z "${USERSTREAM_APT_UPDATED:-}" ]]; then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq </dev/null
        export USERSTREAM_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

# Cache root shared by the eng/ scripts (outside the repository).
userstream_cache() { echo "${XDG_CACHE_HOME:-$HOME/.cache}/userstream"; }
