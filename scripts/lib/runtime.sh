# shellcheck shell=bash
# Sourced by scripts/test, scripts/demo and scripts/bench: finds or builds what they
# need to run the addon in a real Odoo 17.0, without a prompt and without a hand-made
# install. Everything here is a function; nothing runs when the file is sourced.
#
# Odoo 17.0, in this order (apf_odoo_runtime):
#   1. an `odoo` on PATH whose `--version` says 17.0;
#   2. else ODOO_SRC: an Odoo 17.0 source tree, or a source tarball (.tar.gz, .tar.xz),
#      unpacked into the cache with a virtualenv holding its requirements.txt;
#   3. else Odoo's official 17.0 source, shallow-cloned into the cache (APF_ODOO_GIT_URL);
#      offline: one line saying why, and how to give an Odoo (ODOO_SRC).
# The cache is ${XDG_CACHE_HOME:-$HOME/.cache}/account_payment_followup/, one runtime
# per source (keyed by a hash of it). A runtime is used only once its stamp file is
# written, the last step of its set-up: a set-up killed midway is redone.
#
# PostgreSQL: apf_pg_bindir, apf_as_pg_owner, apf_pg_start (a cluster of our own,
# Unix socket only, trust); PGCONNECT_TIMEOUT and no password prompt for every client.

APF_ADDON=account_payment_followup
APF_ODOO_SERIES=17.0
APF_ODOO_GIT_URL=${APF_ODOO_GIT_URL:-https://github.com/odoo/odoo.git}
# What Odoo's tests need beyond its requirements.txt: websocket-client for HttpCase
# tours (Odoo's debian/control recommends it). Part of the runtime's key: a change here
# builds a new runtime.
APF_ODOO_TEST_REQUIREMENTS=("websocket-client==1.8.0")
# a client never waits on a password prompt nor on a server that does not answer
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 GIT_TERMINAL_PROMPT=0

apf_cache_root() {
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/$APF_ADDON"
}

# apf_is_odoo_17 VERSION_LINE: does `odoo --version` say 17.0?
apf_is_odoo_17() {
    [[ $1 =~ (^|[^0-9.])17\.0([^0-9]|$) ]]
}

# ------------------------------------------------------------ system packages --

# apf_missing_packages [build]: print the Debian packages missing to run Odoo's tests
# (one per line); with "build", also those needed to build Odoo's virtualenv.
apf_missing_packages() {
    apf_pg_bindir >/dev/null || echo postgresql
    command -v wkhtmltopdf >/dev/null || echo wkhtmltopdf
    [[ ${1:-} == build ]] || return 0
    [[ -e /usr/include/postgresql/libpq-fe.h ]] || command -v pg_config >/dev/null || echo libpq-dev
    [[ -e /usr/include/ldap.h ]] || echo libldap2-dev
    [[ -e /usr/include/sasl/sasl.h ]] || echo libsasl2-dev
    command -v cc >/dev/null || command -v gcc >/dev/null || echo gcc
    "${APF_PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv
    return 0
}

apf_is_root() { ((EUID == 0)); }

# apf_system_packages [build]: install what is missing as root with apt-get; otherwise
# print the exact apt-get line and fail. APF_NO_SYSTEM_PACKAGES=1 leaves the system
# alone (the bootstrap's own tests; machines provisioned another way).
apf_system_packages() {
    local missing log=${TMPDIR:-/tmp}/apf-apt.log
    [[ -n ${APF_NO_SYSTEM_PACKAGES:-} ]] && return 0
    mapfile -t missing < <(apf_missing_packages "$@")
    ((${#missing[@]})) || return 0
    if apf_is_root && command -v apt-get >/dev/null; then
        echo "installing system packages: ${missing[*]} (apt-get; log: $log)"
        {
            DEBIAN_FRONTEND=noninteractive apt-get update -q &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
        } </dev/null >"$log" 2>&1 || {
            tail -n 20 "$log"
            echo "apt-get install ${missing[*]} failed"
            return 1
        }
        return 0
    fi
    echo "missing system packages; install them, then run again:"
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    return 1
}

# ------------------------------------------------------------------ postgres --

apf_as_pg_owner() {
    # initdb and pg_ctl refuse to run as root: use the postgres system user then.
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

apf_pg_bindir() {
    local dir candidates=()
    [[ -n ${PG_BINDIR:-} ]] && candidates+=("$PG_BINDIR")
    command -v pg_config >/dev/null && candidates+=("$(pg_config --bindir 2>/dev/null)")
    command -v initdb >/dev/null && candidates+=("$(dirname "$(readlink -f "$(command -v initdb)")")")
    while read -r dir; do candidates+=("$dir"); done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV)
    for dir in "${candidates[@]}"; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

apf_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# apf_pg_start DIR LOGFILE [postgres -c options...]: start (creating it the first time)
# a cluster in DIR/data listening on the Unix socket DIR only; sets APF_PG_HOST,
# APF_PG_PORT, APF_PG_USER, APF_PG_BINDIR. A cluster already running there is reused.
apf_pg_start() {
    local dir=$1 log=$2 data=$1/data
    shift 2
    APF_PG_BINDIR=$(apf_pg_bindir) || {
        echo "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: apt-get install postgresql, or set PG_BINDIR"
        return 1
    }
    if ((${#dir} > 90)); then
        echo "$dir is too long a path for a PostgreSQL socket (set TMPDIR to a shorter one)"
        return 1
    fi
    mkdir -p "$dir"
    touch "$log"
    if ((EUID == 0)); then
        id postgres >/dev/null 2>&1 || { echo "running as root needs a 'postgres' system user to run the cluster"; return 1; }
        chown postgres: "$dir" "$log"
        runuser -u postgres -- test -w "$dir" || {
            echo "the postgres user cannot write to $dir (check the permissions of its parents)"
            return 1
        }
    fi
    APF_PG_HOST=$dir
    APF_PG_USER=$(id -un)
    if [[ ! -f $data/PG_VERSION ]]; then
        rm -rf "$data"
        # The bootstrap superuser is named after us, so Odoo connects as ourselves.
        apf_as_pg_owner "$APF_PG_BINDIR/initdb" -D "$data" -U "$APF_PG_USER" -A trust -E UTF8 --locale=C --no-sync \
            </dev/null >"$log.initdb" 2>&1 || { cat "$log.initdb"; return 1; }
    fi
    if apf_as_pg_owner "$APF_PG_BINDIR/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        APF_PG_PORT=$(sed -n 4p "$data/postmaster.pid")
        return 0
    fi
    APF_PG_PORT=$(apf_free_port)
    local opts="-p $APF_PG_PORT -k $dir -c listen_addresses=''" opt
    for opt in "$@"; do opts+=" -c $opt"; done
    apf_as_pg_owner "$APF_PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "$opts" start </dev/null >/dev/null || {
        tail -n 20 "$log"
        return 1
    }
}

# apf_pg_stop DIR [mode]
apf_pg_stop() {
    local data=$1/data
    [[ -f $data/postmaster.pid ]] || return 0
    apf_as_pg_owner "$(apf_pg_bindir)/pg_ctl" -D "$data" -m "${2:-fast}" -w stop </dev/null >/dev/null 2>&1
}

# apf_pg_check: can the server of the PG* variables be reached? One clear line if not.
apf_pg_check() {
    local out
    if out=$(psql -X -w -At -d postgres -c 'SELECT 1' </dev/null 2>&1); then
        return 0
    fi
    echo "cannot connect to PostgreSQL at ${PGHOST:-local socket}:${PGPORT:-5432} as ${PGUSER:-$(id -un)}:" \
        "$(echo "$out" | grep -v '^\s*$' | head -n 1)"
    return 1
}

# ---------------------------------------------------------------------- odoo --

# apf_source_key SRC: a short hash naming the runtime built from SRC. A tarball: its
# content. A directory: where it is and what it holds (version, requirements). The
# test requirements are part of it.
apf_source_key() {
    local src=$1 source_hash
    if [[ -f $src ]]; then
        source_hash=$(sha256sum "$src" | cut -d' ' -f1)
    else
        src=$(cd "$src" && pwd -P) || return 1
        source_hash=$({ echo "$src"; cat "$src/odoo/release.py" "$src/requirements.txt" 2>/dev/null; } | sha256sum)
    fi
    printf '%s\n' "$source_hash" "${APF_ODOO_TEST_REQUIREMENTS[@]}" | sha256sum | cut -c1-16
}

# apf_is_odoo_source DIR: an Odoo source tree (odoo-bin, requirements.txt, odoo/)?
apf_is_odoo_source() {
    [[ -f $1/odoo-bin && -f $1/requirements.txt && -f $1/odoo/release.py ]]
}

# apf_runtime_ready DIR: a finished set-up (stamp written last) whose launcher answers.
apf_runtime_ready() {
    [[ -f $1/.complete && -x $1/bin/odoo ]] && apf_is_odoo_17 "$("$1/bin/odoo" --version 2>/dev/null)"
}

# apf_build_runtime SRC DIR: unpack SRC (a tarball; a directory is used where it is)
# into DIR, make DIR/venv with its requirements and DIR/bin/odoo; stamp DIR/.complete.
apf_build_runtime() {
    local src=$1 dir=$2 tree py
    py=${APF_PYTHON:-python3}
    rm -rf "$dir"
    mkdir -p "$dir/bin"
    if [[ -f $src ]]; then
        echo "unpacking $src (log: $dir/setup.log)" >&2
        mkdir "$dir/src"
        tar -xaf "$src" -C "$dir/src" </dev/null >"$dir/setup.log" 2>&1 || { tail -n 5 "$dir/setup.log" >&2; echo "cannot unpack $src" >&2; return 1; }
        # the tarball's one top folder (odoo-17.0/), or the tree itself
        tree=$(find "$dir/src" -maxdepth 2 -name odoo-bin -printf '%h\n' | head -n 1)
    else
        tree=$(cd "$src" && pwd -P)
    fi
    if [[ -z $tree ]] || ! apf_is_odoo_source "$tree"; then
        echo "$src holds no Odoo source tree (odoo-bin, requirements.txt, odoo/release.py)" >&2
        return 1
    fi
    ln -sfn "$tree" "$dir/odoo"
    echo "making Odoo's virtualenv in $dir/venv (requirements.txt from PyPI; log: $dir/setup.log)" >&2
    "$py" -m venv "$dir/venv" </dev/null >>"$dir/setup.log" 2>&1 || { tail -n 5 "$dir/setup.log" >&2; echo "python3 -m venv failed" >&2; return 1; }
    # setuptools/wheel: some pinned requirements build from source (psycopg2, python-ldap)
    "$dir/venv/bin/python" -m pip install -q setuptools wheel </dev/null >>"$dir/setup.log" 2>&1 &&
        "$dir/venv/bin/python" -m pip install -q -r "$tree/requirements.txt" "${APF_ODOO_TEST_REQUIREMENTS[@]}" \
            </dev/null >>"$dir/setup.log" 2>&1 || {
        tail -n 20 "$dir/setup.log" >&2
        echo "pip install -r $tree/requirements.txt failed (see $dir/setup.log)" >&2
        return 1
    }
    cat >"$dir/bin/odoo" <<EOF
#!/bin/sh
# Odoo launcher made by account_payment_followup's scripts/lib/runtime.sh
exec "$dir/venv/bin/python" "$tree/odoo-bin" "\$@"
EOF
    chmod +x "$dir/bin/odoo"
    local version
    version=$("$dir/bin/odoo" --version 2>/dev/null | head -n 1)
    if ! apf_is_odoo_17 "$version"; then
        echo "the Odoo in $src is not $APF_ODOO_SERIES: '$version'" >&2
        return 1
    fi
    printf 'source=%s\nversion=%s\n' "$src" "$version" >"$dir/.complete"
}

# apf_runtime_from_source SRC: the runtime of SRC, built the first time; prints its
# directory on the last line. One set-up at a time per source (flock).
apf_runtime_from_source() {
    local src=$1 key dir cache
    [[ -e $src ]] || { echo "ODOO_SRC=$src does not exist" >&2; return 1; }
    key=$(apf_source_key "$src") || return 1
    cache=$(apf_cache_root)
    dir=$cache/odoo-$APF_ODOO_SERIES-$key
    mkdir -p "$cache"
    (
        flock -w 3600 9 || { echo "another set-up of $dir holds its lock" >&2; exit 1; }
        if apf_runtime_ready "$dir"; then
            exit 0
        fi
        [[ -d $dir ]] && echo "$dir is an unfinished set-up: doing it again" >&2
        apf_build_runtime "$src" "$dir"
    ) 9>"$dir.lock" || return 1
    echo "$dir"
}

# apf_download_odoo: Odoo's official 17.0 source, shallow-cloned into the cache; prints
# its directory on the last line. Fails quickly when the network is not there.
apf_download_odoo() {
    local dest
    dest=$(apf_cache_root)/download/odoo-$APF_ODOO_SERIES
    if [[ -f $dest.complete ]] && apf_is_odoo_source "$dest"; then
        echo "$dest"
        return 0
    fi
    if ! timeout 20 git ls-remote --exit-code --heads "$APF_ODOO_GIT_URL" "$APF_ODOO_SERIES" </dev/null >/dev/null 2>&1; then
        return 2  # offline: the caller says so, in one line
    fi
    rm -rf "$dest" "$dest.complete"
    mkdir -p "$(dirname "$dest")"
    echo "downloading Odoo $APF_ODOO_SERIES (shallow clone of $APF_ODOO_GIT_URL into $dest)" >&2
    timeout 3600 git clone -q --depth 1 --single-branch -b "$APF_ODOO_SERIES" "$APF_ODOO_GIT_URL" "$dest" </dev/null || {
        echo "git clone of $APF_ODOO_GIT_URL failed" >&2
        return 1
    }
    touch "$dest.complete"
    echo "$dest"
}

# apf_odoo_runtime: make `odoo` (17.0) the first on PATH, or say why not. Sets
# APF_ODOO_VERSION and APF_ODOO_ORIGIN (path, ODOO_SRC, download), or
# APF_ODOO_SKIP_REASON (one line) and returns 1. Progress notes go to stderr.
apf_odoo_runtime() {
    APF_ODOO_SKIP_REASON=""
    APF_ODOO_ORIGIN=""
    local version="" dir src
    command -v odoo >/dev/null 2>&1 && version=$(odoo --version 2>/dev/null | head -n 1)
    if apf_is_odoo_17 "$version"; then
        APF_ODOO_VERSION=$version
        APF_ODOO_ORIGIN="odoo on PATH ($(command -v odoo))"
        return 0
    fi
    [[ -n $version ]] && echo "the odoo on PATH says '$version', not $APF_ODOO_SERIES: not used" >&2
    src=${ODOO_SRC:-}
    if [[ -n $src ]]; then
        APF_ODOO_ORIGIN="ODOO_SRC=$src"
    elif src=$(apf_download_odoo); then
        APF_ODOO_ORIGIN="Odoo's $APF_ODOO_SERIES source, downloaded"
    else
        APF_ODOO_SKIP_REASON="no odoo $APF_ODOO_SERIES on PATH, no ODOO_SRC, and $APF_ODOO_GIT_URL cannot be reached: set ODOO_SRC to an Odoo $APF_ODOO_SERIES source tree or tarball (.tar.gz/.tar.xz)"
        return 1
    fi
    if ! apf_system_packages build >&2; then
        APF_ODOO_SKIP_REASON="system packages missing (see above)"
        return 1
    fi
    if ! dir=$(apf_runtime_from_source "$src"); then
        APF_ODOO_SKIP_REASON="the Odoo runtime could not be set up from $src (see above)"
        return 1
    fi
    export PATH="$dir/bin:$PATH"
    APF_ODOO_VERSION=$(odoo --version 2>/dev/null | head -n 1)
    APF_ODOO_ORIGIN+=" -> $dir"
}

# apf_odoo_core_addons_path: Odoo's own addons directories, comma-separated (may be
# empty: Odoo always adds <odoo package>/addons itself; a git checkout also has
# <root>/addons). ODOO_ADDONS_PATH wins.
apf_odoo_core_addons_path() {
    if [[ -n ${ODOO_ADDONS_PATH:-} ]]; then
        echo "$ODOO_ADDONS_PATH"
        return
    fi
    local launcher roots=() pythons=() token py pkg dir found=() shebang=()
    launcher=$(readlink -f "$(command -v odoo)")
    if grep -qI '' "$launcher" 2>/dev/null; then
        # A text launcher: a Python console script (shebang) or a shell wrapper
        # naming the interpreter and odoo-bin.
        read -r -a shebang < <(head -n 1 "$launcher" | sed -n 's/^#!//p') || true
        if ((${#shebang[@]})); then
            if [[ ${shebang[0]} == */env ]]; then pythons+=("${shebang[1]:-python3}"); else pythons+=("${shebang[0]}"); fi
        fi
        while read -r token; do pythons+=("$token"); done < <(grep -Eo '[^[:space:]"'\'']*/python[0-9.]*' "$launcher" || true)
        while read -r token; do roots+=("$(dirname "$token")"); done < <(grep -Eo '[^[:space:]"'\'']*/odoo-bin' "$launcher" || true)
    fi
    for py in "${pythons[@]}"; do
        [[ $py == */* ]] || py=$(command -v "$py") || continue
        [[ -x $py ]] || continue
        if pkg=$(cd / && "$py" -c 'import os, odoo; print(os.path.dirname(os.path.abspath(odoo.__file__)))' 2>/dev/null); then
            roots+=("$(dirname "$pkg")")
            break
        fi
    done
    for dir in "${roots[@]/%//odoo/addons}" "${roots[@]/%//addons}"; do
        if compgen -G "$dir/*/__manifest__.py" >/dev/null && [[ " ${found[*]} " != *" $dir "* ]]; then
            found+=("$dir")
        fi
    done
    (IFS=,; echo "${found[*]}")
}

# apf_odoo_python: the Python interpreter of the `odoo` on PATH (for pip), if known.
apf_odoo_python() {
    local launcher py
    launcher=$(readlink -f "$(command -v odoo)")
    py=$(grep -Eo '[^[:space:]"'\'']*/python[0-9.]*' "$launcher" 2>/dev/null | head -n 1)
    [[ -z $py ]] && py=$(head -n 1 "$launcher" | sed -n 's/^#!\([^ ]*\).*/\1/p')
    [[ -x $py ]] && echo "$py"
}
