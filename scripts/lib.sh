# Shared helpers for scripts/test, scripts/demo and scripts/bench (sourced, not run).
# Everything installed here lands in ignored folders under the repository and is
# reused on the next run when its inputs did not change.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV_ROOT="$REPO_ROOT/.venv"
CACHE_ROOT="$REPO_ROOT/.cache"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Install Debian packages that are missing; quiet and idempotent.
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "Installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# Print the path of a working Python 3.13 interpreter (pyenv or system).
find_python313() {
    local candidate
    for candidate in \
        "$(command -v pyenv >/dev/null 2>&1 && echo "$(pyenv root)/versions/3.13.0/bin/python3.13")" \
        "$HOME/.pyenv/versions/3.13.0/bin/python3.13" \
        /usr/bin/python3.13 \
        "$(command -v python3.13 2>/dev/null)"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 13)' \
            2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "No working Python 3.13 found (pyenv 3.13.0 or Debian's python3.13)." >&2
    return 1
}

# Create or refresh a venv: ensure_venv NAME PYTHON REQUIREMENTS_FILE
ensure_venv() {
    local name=$1 python=$2 reqs=$3
    local venv="$VENV_ROOT/$name"
    local stamp="$venv/.requirements.sha"
    local want
    want=$(cat "$REPO_ROOT"/requirements/*.txt | sha256sum | cut -d' ' -f1)
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "Preparing Python environment $name (first run takes a few minutes)"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
    (cd "$REPO_ROOT/requirements" && "$venv/bin/pip" install -q -r "$reqs")
    echo "$want" >"$stamp"
}

# Start nothing; just make sure the broker binary exists.
ensure_mosquitto() {
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] \
        || ensure_apt mosquitto
    # Debian starts a system broker on port 1883; tests use their own ports.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q mosquitto 2>/dev/null; then
        systemctl stop mosquitto >/dev/null 2>&1 || true
    fi
}
