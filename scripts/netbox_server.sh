#!/usr/bin/env bash
# Provision and run a REAL NetBox (PostgreSQL + Redis + NetBox/gunicorn) on loopback for
# natflow's test suite.
#
#   scripts/netbox_server.sh start        provision what is missing (cached), start everything,
#                                         write $NATFLOW_NETBOX_STATE/netbox.env
#   scripts/netbox_server.sh stop         stop NetBox, Redis and PostgreSQL (caches are kept)
#   scripts/netbox_server.sh status       show what runs and whether the API answers
#   scripts/netbox_server.sh reset-data   delete all IPAM/tenancy objects (server keeps running;
#                                         users, tokens and custom fields are kept)
#   scripts/netbox_server.sh reset-db     replace the database with the freshly migrated dump
#                                         (seconds), then re-create admin, tokens, custom fields
#
# Resetting between tests: both reset commands take ~4-5 s (mostly Django start-up), so call one
# per test module/session rather than per test. reset-db gives a freshly migrated database
# (object ids restart at 1); reset-data keeps ids growing but never touches users/tokens/fields.
# Both keep NETBOX_TOKEN / NETBOX_TOKEN_V1 valid, so the env file never changes.
#
# The env file holds NETBOX_URL, NETBOX_TOKEN (v2, "nbt_<key>.<secret>", send it as
# "Authorization: Bearer ..." or "Token ..."), NETBOX_TOKEN_V1 (legacy 40-char token, send it as
# "Authorization: Token ..."), NETBOX_VERSION, NETBOX_ADMIN_USER, NETBOX_ADMIN_PASSWORD.
#
# Caches (under ${XDG_CACHE_HOME:-$HOME/.cache}/natflow, override with NATFLOW_CACHE_DIR):
#   python3.13/<version>/           CPython built from Debian trixie's python3.13 source package
#                                   (NetBox 4.7 needs Python >= 3.12; bookworm only has 3.11)
#   venvs/netbox-<nb>-py<py>/       venv with netbox==<nb> from PyPI
#   dumps/netbox-<nb>-migrated.dump pg_dump -Fc of a freshly migrated database (migrate takes
#                                   ~5 min; restoring the dump takes seconds)
#
# Environment knobs: NATFLOW_NETBOX_STATE (state dir), NATFLOW_NETBOX_PORT (58001),
# NATFLOW_NETBOX_PG_PORT (55432), NATFLOW_NETBOX_REDIS_PORT (56379), NATFLOW_NETBOX_PYTHON
# (use this python >= 3.12 instead of building one), NATFLOW_NETBOX_PG_OS_USER (postgres).
#
# Only apt (Debian bookworm + a PRIVATE trixie deb-src list for the Python source) and PyPI are
# used. The machine's apt sources are never modified.

set -euo pipefail

NETBOX_VERSION=4.7.3
PY_SERIES=3.13                      # Debian source package python3.13 (from trixie)

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ASSETS=$SCRIPT_DIR/netbox
CACHE_ROOT=${NATFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/natflow}
STATE=${NATFLOW_NETBOX_STATE:-$CACHE_ROOT/netbox-run}
# Absolute paths: the servers are started with another working directory.
[[ $CACHE_ROOT == /* ]] || CACHE_ROOT=$PWD/$CACHE_ROOT
[[ $STATE == /* ]] || STATE=$PWD/$STATE
HTTP_PORT=${NATFLOW_NETBOX_PORT:-58001}
PG_PORT=${NATFLOW_NETBOX_PG_PORT:-55432}
REDIS_PORT=${NATFLOW_NETBOX_REDIS_PORT:-56379}
# PostgreSQL refuses to run as root. When this script runs as root, the server runs as this
# unprivileged system user instead; `postgres` is created by Debian's postgresql-15 package,
# which we install anyway, so no extra user has to be added to the machine.
PG_OS_USER=${NATFLOW_NETBOX_PG_OS_USER:-postgres}

LOG_DIR=$STATE/logs
RUN_DIR=$STATE/run
ENV_FILE=$STATE/netbox.env
SECRETS_FILE=$STATE/secrets.env
NETBOX_ROOT_DIR=$STATE/netbox-root
DUMP_FILE=$CACHE_ROOT/dumps/netbox-$NETBOX_VERSION-migrated.dump
PG_DB=netbox
PG_ROLE=netbox

# Debian packages needed at run time, and to build CPython / psycopg's C extension.
RUNTIME_PACKAGES=(postgresql-15 postgresql-client-15 redis-server curl ca-certificates)
BUILD_PACKAGES=(build-essential pkg-config xz-utils libssl-dev zlib1g-dev libffi-dev libbz2-dev
                libsqlite3-dev liblzma-dev libreadline-dev libncurses-dev uuid-dev libpq-dev)

CURRENT_STEP="setup"
CURRENT_LOG=""
STARTING=0

# ---------------------------------------------------------------------------------------------
# Error reporting: every failure names the step and shows the end of that step's log.

# Every line carries the seconds since the script started, so slow steps are easy to spot.
log() { printf '[netbox_server +%ss] %s\n' "$SECONDS" "$*" >&2; }

die() {
    log "FAILED in step '$CURRENT_STEP': $*"
    if [[ -n $CURRENT_LOG && -s $CURRENT_LOG ]]; then
        log "last lines of $CURRENT_LOG:"
        tail -n 40 "$CURRENT_LOG" | sed 's/^/    /' >&2
    fi
    if [[ $STARTING == 1 ]]; then
        log "servers started before this step are left running for inspection; '$0 stop' stops them"
    fi
    exit 1
}

on_error() {
    local rc=$? line=$1
    # In a subshell / command substitution just exit: the parent's own ERR trap reports it
    # once, with the step and log it knows about.
    (( BASH_SUBSHELL == 0 )) || exit "$rc"
    trap - ERR
    die "command failed (exit $rc) at ${BASH_SOURCE[0]}:$line"
}
trap 'on_error $LINENO' ERR
set -E   # ERR trap also fires inside functions

# step NAME LOGFILE: announce a step; its log is tailed if it fails.
step() {
    CURRENT_STEP=$1
    CURRENT_LOG=${2:-}
    log "$CURRENT_STEP"
}

# run_logged CMD...: run a command with all output appended to the current step's log.
run_logged() {
    "$@" >>"${CURRENT_LOG:-/dev/stderr}" 2>&1 </dev/null
}

elapsed() { echo "$((SECONDS - $1))s"; }

# ---------------------------------------------------------------------------------------------
# Debian packages

APT_UPDATED=0
apt_update_once() {
    if [[ $APT_UPDATED == 0 ]]; then
        run_logged apt-get update
        APT_UPDATED=1
    fi
}

# ensure_packages PKG...: apt-get install whatever is not installed yet.
ensure_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    [[ $EUID -eq 0 ]] || die "missing Debian packages: ${missing[*]} (run as root or install them)"
    log "  apt-get install ${missing[*]}"
    apt_update_once
    # Debian images ship a policy-rc.d that keeps the packaged redis/postgres services from
    # starting; we run our own instances on private ports either way.
    DEBIAN_FRONTEND=noninteractive run_logged apt-get install -y --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# Python >= 3.12 for NetBox

# Prints the cached CPython interpreter, if a complete build exists (newest version wins).
cached_python() {
    local dir best=""
    for dir in "$CACHE_ROOT/python$PY_SERIES"/*/; do
        dir=${dir%/}
        [[ -f $dir/.complete && -x $dir/bin/python$PY_SERIES ]] && best=$dir/bin/python$PY_SERIES
    done
    [[ -n $best ]] && echo "$best"
}

# Downloads Debian trixie's python3.13 source package with a PRIVATE apt configuration
# (own sources list, lists dir and cache), so the machine's apt sources stay untouched.
fetch_python_source() {
    local apt_dir=$CACHE_ROOT/apt-trixie src_dir=$1
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
    echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' \
        >"$apt_dir/sources.list"
    local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
                    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
                    -o "Dir::State::Lists=$apt_dir/lists"
                    -o "Dir::Cache=$apt_dir/cache"
                    -o "APT::Sandbox::User=root")
    run_logged apt-get "${apt_opts[@]}" update
    mkdir -p "$src_dir"
    run_logged env -C "$src_dir" apt-get "${apt_opts[@]}" source --download-only "python$PY_SERIES"
}

build_python() {
    local src_dir=$CACHE_ROOT/src tarball version prefix build_dir
    ensure_packages "${BUILD_PACKAGES[@]}"
    fetch_python_source "$src_dir"
    # Build the pristine upstream tarball; Debian's patches are for Debian's own packaging.
    tarball=$(ls -1 "$src_dir"/python"$PY_SERIES"_*.orig.tar.xz | sort -V | tail -n 1)
    version=${tarball##*/python"${PY_SERIES}"_}
    version=${version%.orig.tar.xz}
    prefix=$CACHE_ROOT/python$PY_SERIES/$version
    log "  building CPython $version into $prefix (takes a few minutes)"
    rm -rf "$prefix"
    build_dir=$(mktemp -d "$CACHE_ROOT/python-build.XXXXXX")
    tar -xf "$tarball" -C "$build_dir" --strip-components=1
    # No test modules: skips building/installing (and byte-compiling) the large Lib/test tree.
    run_logged env -C "$build_dir" ./configure --prefix="$prefix" --with-ensurepip=install \
        --disable-test-modules
    run_logged make -C "$build_dir" -j"$(nproc)"
    run_logged make -C "$build_dir" install
    rm -rf "$build_dir"
    # Fail now, not deep inside pip, if an optional-but-needed module was not built.
    run_logged "$prefix/bin/python$PY_SERIES" -c \
        'import ssl, sqlite3, lzma, bz2, zlib, ctypes, uuid, venv, ensurepip; print("modules ok")'
    touch "$prefix/.complete"
}

ensure_python() {
    step "python: find or build CPython $PY_SERIES" "$LOG_DIR/python-build.log"
    if [[ -n ${NATFLOW_NETBOX_PYTHON:-} ]]; then
        PYTHON=$NATFLOW_NETBOX_PYTHON
    elif ! PYTHON=$(cached_python); then
        build_python
        PYTHON=$(cached_python) || die "CPython build did not produce an interpreter"
    fi
    [[ -x $PYTHON ]] || die "$PYTHON is not an executable"
    "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 12), sys.version' \
        || die "$PYTHON is older than 3.12"
    PY_VERSION=$("$PYTHON" -c 'import platform; print(platform.python_version())')
    log "  using $PYTHON ($PY_VERSION)"
}

# ---------------------------------------------------------------------------------------------
# NetBox venv

ensure_venv() {
    VENV=$CACHE_ROOT/venvs/netbox-$NETBOX_VERSION-py$PY_VERSION
    step "venv: netbox==$NETBOX_VERSION" "$LOG_DIR/venv.log"
    if [[ -f $VENV/.complete ]]; then
        log "  cached: $VENV"
        return 0
    fi
    # psycopg[c] is compiled against libpq: needs libpq-dev (pg_config) and a C compiler.
    ensure_packages "${BUILD_PACKAGES[@]}"
    rm -rf "$VENV"
    run_logged "$PYTHON" -m venv "$VENV"
    run_logged "$VENV/bin/pip" install --upgrade pip
    run_logged "$VENV/bin/pip" install "netbox==$NETBOX_VERSION"
    run_logged "$VENV/bin/netbox" version
    touch "$VENV/.complete"
}

# ---------------------------------------------------------------------------------------------
# State dir, secrets, NetBox configuration

random_alnum() { # LENGTH
    "$PYTHON" -c 'import secrets, string, sys
a = string.ascii_letters + string.digits
print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"
}

# Secrets are generated once per state dir and kept, so tokens survive restarts.
ensure_secrets() {
    [[ -s $SECRETS_FILE ]] && return 0
    local tmp=$SECRETS_FILE.tmp
    umask 077
    {
        echo "NB_SECRET_KEY=$(random_alnum 60)"
        echo "NB_TOKEN_PEPPER=$(random_alnum 60)"
        echo "NB_DB_PASSWORD=$(random_alnum 32)"
        echo "NB_ADMIN_USER=admin"
        echo "NB_ADMIN_PASSWORD=$(random_alnum 24)"
        echo "NB_TOKEN_KEY=$(random_alnum 12)"      # v2 key: TOKEN_KEY_LENGTH = 12
        echo "NB_TOKEN_SECRET=$(random_alnum 40)"
        echo "NB_TOKEN_V1=$(random_alnum 40)"       # v1 tokens are exactly 40 chars
    } >"$tmp"
    mv "$tmp" "$SECRETS_FILE"
    umask 022
}

load_secrets() {
    set -a
    # shellcheck disable=SC1090
    source "$SECRETS_FILE"
    set +a
}

render_config() {
    local conf_dir=$NETBOX_ROOT_DIR/conf
    mkdir -p "$conf_dir" "$NETBOX_ROOT_DIR/media" "$NETBOX_ROOT_DIR/reports" "$NETBOX_ROOT_DIR/scripts"
    : >"$conf_dir/__init__.py"
    sed -e "s/@DB_PASSWORD@/$NB_DB_PASSWORD/g" \
        -e "s/@PG_PORT@/$PG_PORT/g" \
        -e "s/@REDIS_PORT@/$REDIS_PORT/g" \
        -e "s/@SECRET_KEY@/$NB_SECRET_KEY/g" \
        -e "s/@TOKEN_PEPPER@/$NB_TOKEN_PEPPER/g" \
        "$ASSETS/configuration.py.in" >"$conf_dir/configuration.py.tmp"
    chmod 600 "$conf_dir/configuration.py.tmp"
    mv "$conf_dir/configuration.py.tmp" "$conf_dir/configuration.py"
}

# netbox_py SCRIPT: run one of our Django scripts inside the NetBox venv.
netbox_py() {
    NETBOX_ROOT=$NETBOX_ROOT_DIR "$VENV/bin/python" "$@"
}

netbox_cli() {
    NETBOX_ROOT=$NETBOX_ROOT_DIR "$VENV/bin/netbox" "$@"
}

# ---------------------------------------------------------------------------------------------
# Processes

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# proc_matches PID PATTERN: true if PID is a live (non-zombie) process whose command line
# matches PATTERN (guards against a stale pid file pointing at a reused pid). A zombie has an
# empty cmdline, so it counts as gone.
proc_matches() {
    [[ $1 =~ ^[0-9]+$ && -r /proc/$1/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"
}

# pid_alive PIDFILE PATTERN
pid_alive() {
    [[ -s $1 ]] && proc_matches "$(head -n 1 "$1")" "$2"
}

# stop_pid PIDFILE PATTERN NAME: SIGTERM, wait up to 30 s for the process itself (gunicorn
# deletes its pid file before its interpreter has finished exiting), then SIGKILL.
stop_pid() {
    local pidfile=$1 pattern=$2 name=$3 pid i
    if ! pid_alive "$pidfile" "$pattern"; then
        rm -f "$pidfile"
        return 0
    fi
    pid=$(head -n 1 "$pidfile")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        proc_matches "$pid" "$pattern" || break
        sleep 0.5
    done
    if proc_matches "$pid" "$pattern"; then
        log "  $name ignored SIGTERM for 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/local/bin; do
        [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]] && { echo "$dir"; return 0; }
    done
    return 1
}

# as_pg_user CMD...: run CMD as the PostgreSQL OS user (only needed when we are root).
as_pg_user() {
    if [[ $EUID -eq 0 ]]; then
        # cd / : the caller's cwd may not be readable by that user (initdb/pg_ctl complain).
        runuser -u "$PG_OS_USER" -- env -C / "$@"
    else
        "$@"
    fi
}

# The cluster lives in $STATE/postgres/pgdata when the PostgreSQL OS user can reach $STATE.
# The default state dir is under root's 0700 home, which `postgres` cannot enter; rather than
# loosening /root's permissions, the cluster then lives in a postgres-owned dir under /var/tmp,
# named after a hash of the state dir so several state dirs do not share a cluster.
pg_data_dir() {
    if [[ $EUID -ne 0 ]] || as_pg_user test -x "$STATE" 2>/dev/null; then
        echo "$STATE/postgres/pgdata"
    else
        echo "/var/tmp/natflow-netbox-pg/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)/pgdata"
    fi
}

pg_env() {
    export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=$PG_ROLE PGPASSWORD=$NB_DB_PASSWORD
}

psql_q() { "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -qtA "$@"; }

init_pg_cluster() {
    local pwfile
    mkdir -p "$(dirname "$PGDATA_DIR")"
    if [[ $EUID -eq 0 ]]; then
        chown "$PG_OS_USER:" "$(dirname "$PGDATA_DIR")"
        chmod 700 "$(dirname "$PGDATA_DIR")"
    fi
    # initdb reads the superuser password from a file the PostgreSQL user can read.
    pwfile=$(dirname "$PGDATA_DIR")/initdb.pw
    printf '%s\n' "$NB_DB_PASSWORD" >"$pwfile"
    [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$pwfile"
    chmod 600 "$pwfile"
    run_logged as_pg_user "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_ROLE" --pwfile="$pwfile" \
        -E UTF8 --no-locale --auth-local=peer --auth-host=scram-sha-256
    rm -f "$pwfile"
    # A throw-away test database: durability is not worth the fsyncs (migrate gets faster).
    cat >>"$PGDATA_DIR/postgresql.conf" <<'EOF'

# natflow test server (scripts/netbox_server.sh)
fsync = off
synchronous_commit = off
full_page_writes = off
unix_socket_directories = ''
EOF
}

start_postgres() {
    step "postgres: start on 127.0.0.1:$PG_PORT" "$LOG_DIR/postgres.log"
    PG_BIN=$(pg_bindir) || die "PostgreSQL 15 binaries not found"
    PGDATA_DIR=$(pg_data_dir)
    echo "$PGDATA_DIR" >"$RUN_DIR/pgdata.path"
    if as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        log "  already running"
        return 0
    fi
    port_in_use "$PG_PORT" && die "port $PG_PORT is already used by another process (set NATFLOW_NETBOX_PG_PORT)"
    [[ -f $PGDATA_DIR/PG_VERSION ]] || init_pg_cluster
    # The server inherits the log file descriptor opened here by us, so the log can live in the
    # state dir even when the PostgreSQL user cannot write there. fd 9 (our lock) is closed so
    # the server does not hold the lock.
    as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT" start \
        >>"$CURRENT_LOG" 2>&1 </dev/null 9>&- \
        || die "pg_ctl start failed"
}

stop_postgres() {
    local pgdata
    PG_BIN=$(pg_bindir) || return 0
    pgdata=$(cat "$RUN_DIR/pgdata.path" 2>/dev/null || pg_data_dir)
    [[ -d $pgdata ]] || return 0
    if as_pg_user "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
        log "stopping postgres"
        as_pg_user "$PG_BIN/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >/dev/null
    fi
}

db_exists() {
    [[ $(psql_q -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") == 1 ]]
}

# Create the netbox database: restore the cached migrated dump, or migrate and create the dump.
ensure_database() {
    pg_env
    if db_exists; then
        step "database: present" ""
        return 0
    fi
    if [[ -s $DUMP_FILE ]]; then
        restore_database
    else
        migrate_database
    fi
}

restore_database() {
    local t0=$SECONDS
    step "database: restore migrated dump $DUMP_FILE" "$LOG_DIR/db-restore.log"
    run_logged "$PG_BIN/createdb" "$PG_DB"
    run_logged "$PG_BIN/pg_restore" --no-owner --exit-on-error -j 2 -d "$PG_DB" "$DUMP_FILE"
    log "  restored in $(elapsed $t0)"
}

migrate_database() {
    local t0=$SECONDS
    step "database: netbox migrate (first run only, several minutes)" "$LOG_DIR/migrate.log"
    run_logged "$PG_BIN/createdb" "$PG_DB"
    run_logged netbox_cli migrate --no-input
    log "  migrated in $(elapsed $t0); caching dump"
    mkdir -p "$(dirname "$DUMP_FILE")"
    run_logged "$PG_BIN/pg_dump" -Fc -d "$PG_DB" -f "$DUMP_FILE.tmp.$$"
    mv "$DUMP_FILE.tmp.$$" "$DUMP_FILE"
}

bootstrap_netbox() {
    step "bootstrap: superuser, API tokens, prefix custom fields" "$LOG_DIR/bootstrap.log"
    run_logged netbox_py "$ASSETS/bootstrap.py"
}

# True unless both tokens and both custom fields are already in the database. Loading Django
# for bootstrap.py costs ~10 s of CPU, so a restart with an existing database skips it.
bootstrap_needed() {
    local found
    found=$(psql_q -d "$PG_DB" -c "SELECT
        (SELECT count(*) FROM users_token WHERE key = '$NB_TOKEN_KEY' OR plaintext = '$NB_TOKEN_V1')
      + (SELECT count(*) FROM extras_customfield WHERE name IN ('aws_account_id', 'team'))" \
        2>/dev/null) || return 0
    [[ $found != 4 ]]
}

# ---------------------------------------------------------------------------------------------
# Redis

start_redis() {
    step "redis: start on 127.0.0.1:$REDIS_PORT" "$LOG_DIR/redis.log"
    if pid_alive "$RUN_DIR/redis.pid" redis-server; then
        log "  already running"
        return 0
    fi
    port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is already used by another process (set NATFLOW_NETBOX_REDIS_PORT)"
    mkdir -p "$STATE/redis"
    # No persistence: NetBox only uses Redis for caching and its (unused here) task queue.
    run_logged redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE/redis" \
        --daemonize yes --pidfile "$RUN_DIR/redis.pid" --logfile "$CURRENT_LOG" \
        --save '' --appendonly no 9>&-
    wait_for "redis" 20 redis_ready
}

redis_ready() { [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

stop_redis() { stop_pid "$RUN_DIR/redis.pid" redis-server redis; }

# ---------------------------------------------------------------------------------------------
# NetBox (gunicorn, shipped as a dependency of the netbox package)

api_status() { # prints the /api/status/ body, fails unless it answers 200
    curl -fsS --max-time 10 -H "Authorization: Bearer nbt_$NB_TOKEN_KEY.$NB_TOKEN_SECRET" \
        -H 'Accept: application/json' "http://127.0.0.1:$HTTP_PORT/api/status/"
}

NETBOX_LAUNCH_PID=""
netbox_ready() {
    if [[ -n $NETBOX_LAUNCH_PID ]]; then
        kill -0 "$NETBOX_LAUNCH_PID" 2>/dev/null || die "gunicorn exited during startup"
    else
        pid_alive "$RUN_DIR/netbox.pid" gunicorn || die "gunicorn is not running"
    fi
    api_status >/dev/null 2>&1
}

start_netbox() {
    step "netbox: start gunicorn on 127.0.0.1:$HTTP_PORT" "$LOG_DIR/netbox.log"
    if pid_alive "$RUN_DIR/netbox.pid" gunicorn; then
        log "  already running"
    else
        port_in_use "$HTTP_PORT" && die "port $HTTP_PORT is already used by another process (set NATFLOW_NETBOX_PORT)"
        # 2 workers x 4 threads fits the 2-core machine; setsid+nohup detach it from our
        # session so it outlives this script. All its fds point at files (never at our
        # caller's pipes), so `$(netbox_server.sh start)` does not hang.
        NETBOX_ROOT=$NETBOX_ROOT_DIR setsid nohup env -C "$STATE" "$VENV/bin/gunicorn" \
            --bind "127.0.0.1:$HTTP_PORT" --workers 2 --threads 4 --timeout 120 \
            --no-control-socket --preload --graceful-timeout 5 \
            --pid "$RUN_DIR/netbox.pid" \
            --access-logfile "$LOG_DIR/netbox-access.log" --error-logfile "$CURRENT_LOG" \
            netbox.wsgi >>"$CURRENT_LOG" 2>&1 </dev/null 9>&- &
        NETBOX_LAUNCH_PID=$!
    fi
}

wait_for_netbox() {
    step "netbox: wait for the API on 127.0.0.1:$HTTP_PORT" "$LOG_DIR/netbox.log"
    wait_for "NetBox API" 180 netbox_ready
}

stop_netbox() {
    local sid="" leftover
    [[ -s $RUN_DIR/netbox.pid ]] && sid=$(head -n 1 "$RUN_DIR/netbox.pid")
    stop_pid "$RUN_DIR/netbox.pid" gunicorn "netbox (gunicorn)"
    # gunicorn was started with setsid, so its master pid is also its session id: anything
    # still in that session (a worker orphaned by a killed master) is ours to end.
    [[ $sid =~ ^[0-9]+$ ]] || return 0
    leftover=$(ps -o pid=,stat= -s "$sid" 2>/dev/null | awk '$2 !~ /^Z/ {printf "%s ", $1}') || true
    if [[ -n ${leftover// /} ]]; then
        log "  killing leftover gunicorn processes: $leftover"
        # shellcheck disable=SC2086
        kill -KILL $leftover 2>/dev/null || true
    fi
}

# wait_for NAME SECONDS CHECK...: poll CHECK every half second.
wait_for() {
    local name=$1 timeout=$2 i
    shift 2
    for ((i = 0; i < timeout * 2; i++)); do
        "$@" && return 0
        sleep 0.5
    done
    die "$name did not become ready within ${timeout}s"
}

# ---------------------------------------------------------------------------------------------
# Env file

write_env_file() {
    local tmp=$ENV_FILE.tmp
    umask 077
    cat >"$tmp" <<EOF
NETBOX_URL=http://127.0.0.1:$HTTP_PORT
NETBOX_TOKEN=nbt_$NB_TOKEN_KEY.$NB_TOKEN_SECRET
NETBOX_TOKEN_V1=$NB_TOKEN_V1
NETBOX_VERSION=$NETBOX_VERSION
NETBOX_ADMIN_USER=$NB_ADMIN_USER
NETBOX_ADMIN_PASSWORD=$NB_ADMIN_PASSWORD
EOF
    mv "$tmp" "$ENV_FILE"
    umask 022
}

# ---------------------------------------------------------------------------------------------
# Commands

prepare_state() {
    mkdir -p "$STATE" "$LOG_DIR" "$RUN_DIR" "$CACHE_ROOT"
    # One start/stop at a time (e.g. parallel test workers calling `start`).
    exec 9>"$STATE/.lock"
    flock 9
}

# Loads what every command needs from a previous `start` (python, venv, secrets).
load_installed() {
    [[ -s $SECRETS_FILE ]] || die "no NetBox state in $STATE; run '$0 start' first"
    load_secrets
    PYTHON=${NATFLOW_NETBOX_PYTHON:-$(cached_python)} || die "no cached Python; run '$0 start' first"
    PY_VERSION=$("$PYTHON" -c 'import platform; print(platform.python_version())')
    VENV=$CACHE_ROOT/venvs/netbox-$NETBOX_VERSION-py$PY_VERSION
    PG_BIN=$(pg_bindir) || die "PostgreSQL binaries not found"
}

cmd_start() {
    local t0=$SECONDS
    STARTING=1
    prepare_state
    step "packages: PostgreSQL, Redis, curl" "$LOG_DIR/apt.log"
    ensure_packages "${RUNTIME_PACKAGES[@]}"
    # The caches may be shared by several state dirs (e.g. parallel worktrees): build them once.
    exec 8>"$CACHE_ROOT/.provision.lock"
    flock 8
    ensure_python
    ensure_venv
    exec 8>&-
    step "config: secrets and configuration.py" ""
    ensure_secrets
    load_secrets
    render_config
    start_redis
    start_postgres
    ensure_database
    # gunicorn loads NetBox (~10 s of CPU) while bootstrap.py runs on the other core; requests
    # only succeed once the token exists, which the readiness check waits for anyway.
    start_netbox
    if bootstrap_needed; then
        bootstrap_netbox
    fi
    wait_for_netbox
    write_env_file
    CURRENT_STEP="done"
    log "NetBox $NETBOX_VERSION is up at http://127.0.0.1:$HTTP_PORT (started in $(elapsed $t0))"
    log "env file: $ENV_FILE"
    echo "$ENV_FILE"
}

cmd_stop() {
    CURRENT_STEP="stop"
    prepare_state
    stop_netbox
    stop_redis
    stop_postgres
    log "stopped (caches and data kept under $CACHE_ROOT)"
}

cmd_status() {
    local rc=0 pgdata
    CURRENT_STEP="status"
    if pid_alive "$RUN_DIR/netbox.pid" gunicorn; then
        echo "netbox:   running (pid $(head -n 1 "$RUN_DIR/netbox.pid")) http://127.0.0.1:$HTTP_PORT"
    else
        echo "netbox:   stopped"; rc=3
    fi
    if pid_alive "$RUN_DIR/redis.pid" redis-server; then
        echo "redis:    running (pid $(head -n 1 "$RUN_DIR/redis.pid")) 127.0.0.1:$REDIS_PORT"
    else
        echo "redis:    stopped"; rc=3
    fi
    pgdata=$(cat "$RUN_DIR/pgdata.path" 2>/dev/null || true)
    if [[ -n $pgdata && -s $pgdata/postmaster.pid ]] && PG_BIN=$(pg_bindir) \
        && as_pg_user "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
        echo "postgres: running (pid $(head -n 1 "$pgdata/postmaster.pid")) 127.0.0.1:$PG_PORT data $pgdata"
    else
        echo "postgres: stopped"; rc=3
    fi
    if [[ -s $SECRETS_FILE ]]; then
        load_secrets
        if api_status >/dev/null 2>&1; then
            echo "api:      answering ($(api_status | grep -o '"netbox-version": *"[^"]*"'))"
        else
            echo "api:      not answering"; rc=3
        fi
    fi
    [[ -s $ENV_FILE ]] && echo "env file: $ENV_FILE"
    return $rc
}

cmd_reset_data() {
    prepare_state
    load_installed
    step "reset-data: delete IPAM/tenancy objects" "$LOG_DIR/reset-data.log"
    run_logged netbox_py "$ASSETS/reset_data.py"
    tail -n 1 "$CURRENT_LOG" >&2
}

cmd_reset_db() {
    prepare_state
    load_installed
    [[ -s $DUMP_FILE ]] || die "no migrated dump at $DUMP_FILE; run '$0 start' first"
    pg_env
    step "reset-db: drop database" "$LOG_DIR/db-restore.log"
    run_logged "$PG_BIN/dropdb" --if-exists --force "$PG_DB"
    restore_database
    bootstrap_netbox
    # NetBox keeps some cached state (e.g. the config revision) in Redis db 1: drop it with the DB.
    run_logged redis-cli -p "$REDIS_PORT" -n 1 flushdb
    log "database reset to a freshly migrated NetBox $NETBOX_VERSION"
}

usage() {
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

main() {
    case ${1:-} in
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status || exit $? ;;
        reset-data) cmd_reset_data ;;
        reset-db) cmd_reset_db ;;
        *) usage ;;
    esac
}

main "$@"
