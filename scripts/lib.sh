# shellcheck shell=bash
# What the shell scripts of scripts/ share. Each sources it first:
#
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# and gets `repo` (the checkout's root), `script` (its own name, for its messages) and:
#
#   say MSG                one line on stderr: "SCRIPT: MSG"
#   die MSG                say MSG, exit 1 (the command cannot go on)
#   fail MSG               say "FAIL: MSG", exit 1 (a check of a test failed)
#   need CMD [HINT]        die with one line when CMD is not on PATH
#   usage                  print the comment block at the top of the calling script (its help)
#   options "NAME..." "FLAG..." ARGS...
#                          the calling script's options: --NAME VALUE sets variable NAME, --FLAG
#                          sets FLAG=1 (a dash in either is an underscore in the variable),
#                          -h/--help prints usage; anything else is a usage error (exit 2)
#   cluster ARGS...        scripts/cluster.sh ARGS (the namespace test cluster)
#   apt_install PKG...     install the Debian/Ubuntu packages that are missing (root, else sudo)
#   launch_watched CMD...  run a launcher (mpirun) and end it when it outlives a silent host:
#                          once a rank has said a peer went silent (usid-peaks's exit 7 line) and
#                          the launcher is still there $USID_LAUNCHER_GRACE s later (default 5),
#                          it is killed and this returns 7; otherwise the launcher's own status
#   mpirun_cmd [no]        MPIRUN_LINE: the mpirun command line for the OpenMPI here ($MPIRUN or
#                          mpirun; as root when we are root; more ranks than cores allowed, unless
#                          the argument is `no`)
#   serial_hdf5            the prefix of Debian's serial HDF5 (HDF5_DIR of builds without MPI)
#   reference_env VENV LOCK [PYTHON [MODULE...]]
#                          a Python reference environment in VENV from a pinned lock file
#   test_env               the tests' reference environment, .venv (scipy, h5py, pyUSID, pyNSID,
#                          sidpy, pytest)
#   bglib_env              BGlib's, .venv-bglib (numpy<2, so Debian 12's Python 3.11)
#   json_field LINE KEY    a value of a one-line JSON object (strings unquoted)
#   same_results A B GROUP [DATASET...]
#                          GROUP's results datasets (peak finding's by default) are equal in
#                          files A and B (h5diff)
#   only_ours FILE WHAT    fail unless every line of FILE (a normal run's stderr) is usid-peaks's
#                          own: no line of MPI's, SLURM's or anyone else's
#   host_pids HOST BIN     the processes on HOST of the test cluster (scripts/cluster.sh) that run
#                          the program BIN (an absolute path)
#   lose_host HOST HOW [PID...]
#                          make HOST of the test cluster silent: HOW = cut (its link down) or stop
#                          (SIGSTOP to the PIDs); HOW = back undoes either
#
# Run as a command, it prints what programs in other languages need:
#
#   bash scripts/lib.sh mpirun     the mpirun command line (mpirun_cmd), one argument per line

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
script=$(basename "$0" .sh)

say() { printf '%s: %s\n' "$script" "$*" >&2; }
die() { say "$*"; exit 1; }
fail() { say "FAIL: $*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found${2:+: $2}"; }
# The comment lines after the shebang, up to the first line that is not one (shellcheck's
# directives left out): a script whose `set -euo pipefail` comes later (test-fresh.sh, which can
# be sourced) prints its help, not its code.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 && !/^# shellcheck /' "$0" | sed 's/^# \{0,1\}//'; }
cluster() { bash "$repo/scripts/cluster.sh" "$@"; }

options() {
    local valued=" $1 " flags=" $2 " arg name
    shift 2
    while [ $# -gt 0 ]; do
        arg=$1
        name=${arg#--}
        shift
        if [ "$arg" = -h ] || [ "$arg" = --help ]; then
            usage
            exit 0
        elif [ "$arg" != "$name" ] && [[ $valued == *" $name "* ]]; then
            [ $# -gt 0 ] || { say "$arg needs a value"; exit 2; }
            printf -v "${name//-/_}" '%s' "$1"
            shift
        elif [ "$arg" != "$name" ] && [[ $flags == *" $name "* ]]; then
            printf -v "${name//-/_}" 1
        else
            say "unknown argument '$arg' (see --help)"
            exit 2
        fi
    done
}

# Only what dpkg does not list as installed; nothing on a system without dpkg (the caller's own
# checks then say what is missing).
apt_install() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    need apt-get "install ${missing[*]} by hand"
    say "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    # No recommends: the tools, not their documentation or optional plugins.
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

mpirun_cmd() {
    # (OpenMPI 5's btl_tcp IPv6 pairing line is answered by usid-peaks itself before MPI starts:
    # src/compute/world.rs, default_tcp_to_ipv4.)
    MPIRUN_LINE=("${MPIRUN:-mpirun}")
    # OpenMPI refuses to start as root without it.
    [ "$(id -u)" -ne 0 ] || MPIRUN_LINE+=(--allow-run-as-root)
    # Tests and benchmarks start more ranks than a small machine has cores.
    [ "${1:-}" = no ] || MPIRUN_LINE+=(--oversubscribe)
}

# OpenMPI 4's mpirun, told by a rank's non-zero exit to end the job, orders every host's daemon to
# kill its ranks and waits for each to answer. A daemon behind a cut link never answers, and the
# order, unacknowledged on its TCP connection, keeps TCP keepalive from probing it (the kernel
# probes idle connections only): mpirun waits for TCP's retransmission limit, about 15 minutes.
# No setting of mpirun's shortens that wait without also preempting our own verdict (its OOB
# keepalive ends the job first, exit 205, and no line of ours says which rank went silent). The
# ranks have already ended by --rank-timeout and the checkpoint is written, so nothing is lost by
# killing the launcher then. KILL, not TERM: a TERM during mpirun's abort only asks to "hit
# ctrl-c again", and the second one crashes it in PMIx_Finalize.
silent_line='^usid-peaks: error( \(rank [0-9]+\))?: rank [0-9]+ on .+ sent nothing for '
launch_watched() {
    local grace=${USID_LAUNCHER_GRACE:-5} mark pid rc=0 since=''
    mark=$(mktemp "${TMPDIR:-/tmp}/usid-peaks-launch.XXXXXX")
    rm -f "$mark"
    # stdin explicitly: a background command's stdin is otherwise /dev/null.
    "$@" <&0 2> >(mark_silent "$mark") &
    pid=$!
    trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
    while kill -0 "$pid" 2>/dev/null; do
        [ -n "$since" ] || [ ! -e "$mark" ] || since=$SECONDS
        if [ -n "$since" ] && [ $((SECONDS - since)) -ge "$grace" ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null || true
            say "$1 was still waiting for the silent host ${grace} s after a rank ended the job: stopped it"
            rm -f "$mark"
            return 7
        fi
        sleep 0.2
    done
    wait "$pid" || rc=$?
    rm -f "$mark"
    return "$rc"
}
# stdin to stderr as it comes; MARK made once a line says a rank went silent.
mark_silent() {
    local line
    while IFS= read -r line; do
        printf '%s\n' "$line" >&2
        [[ ! $line =~ $silent_line ]] || : >"$1"
    done
}

serial_hdf5() {
    local d
    for d in /usr/lib/x86_64-linux-gnu/hdf5/serial /usr/lib/aarch64-linux-gnu/hdf5/serial \
        /usr/lib/*-linux-gnu*/hdf5/serial; do
        [ -d "$d" ] && { echo "$d"; return 0; }
    done
    say "no serial HDF5 found (Debian's libhdf5-dev); scripts/bootstrap.sh installs it"
    return 1
}

# Every package from a wheel (no compiler, no headers, the same bits on every machine), exactly the
# versions of LOCK (a `pip freeze` of a working environment). Made again when LOCK or the Python
# changes: a stamp in VENV records both. The MODULEs must import afterwards.
reference_env() {
    local venv=$1 lock=$2 py=${3:-python3}
    shift $(($# < 3 ? $# : 3))
    need "$py" "install Python 3 with its venv module"
    local want
    want="$(sha256sum "$lock" | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.lock.stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    say "making the reference environment $venv from $lock ($("$py" --version 2>&1))"
    rm -rf "$venv"
    "$py" -m venv "$venv" || die "$py -m venv failed (Debian: apt-get install python3-venv)"
    # --no-deps, then pip check: exactly the lock, and a lock that misses a package some other
    # needs (on this Python) fails here rather than being completed with whatever is newest. A
    # version the lock pins against a package's own pin is the lock's choice (BGlib's lock does
    # so on purpose): said, not fatal.
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input --no-deps \
        --only-binary=:all: -r "$lock" || die "pip could not install $lock into $venv (see above)"
    local check
    check=$("$venv/bin/python" -m pip check 2>&1) || true
    if grep -q 'which is not installed' <<<"$check"; then
        die "$lock is not complete for $("$py" --version 2>&1): $(grep 'which is not installed' <<<"$check" | tr '\n' ';')"
    fi
    grep -v '^No broken requirements' <<<"$check" | sed 's/^/  kept as locked: /' >&2 || true
    if [ $# -gt 0 ]; then
        local imports
        imports=$(printf 'import %s; ' "$@")
        "$venv/bin/python" -c "$imports" || die "$venv does not import $*; see the messages above"
    fi
    echo "$want" >"$venv/.lock.stamp"
}

test_env() {
    reference_env .venv tests/reference/requirements.txt "${PYTHON:-python3}" \
        numpy scipy h5py pyUSID sidpy pyNSID pytest
}

bglib_env() {
    reference_env .venv-bglib tests/reference/requirements-bglib.txt python3.11 BGlib
}

json_field() {
    sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$1"
}

same_results() {
    local a=$1 b=$2 group=$3 ds
    shift 3
    [ $# -gt 0 ] || set -- Peak_Indices Peak_Count Peak_Frequencies
    for ds in "$@"; do
        h5diff -q "$a" "$b" "$group/$ds" "$group/$ds" || return 1
    done
}

only_ours() {
    local foreign
    foreign=$(grep -v '^usid-peaks' "$1" || true)
    [ -z "$foreign" ] || fail "$2: lines not ours on stderr: $(head -n 5 <<<"$foreign")"
}

# The processes in HOST's network namespace that run the executable BIN: the ranks a launcher
# started there. The same file, not the same path: a process in another mount namespace (each
# test slurmd has its own) shows its executable's path from that namespace's root, which in a
# chroot is not ours (readlink gave the chroot's full path on a fresh Debian 12).
host_pids() {
    local p
    for p in $(ip netns pids "usidc-$1" 2>/dev/null); do
        [ "/proc/$p/exe" -ef "$2" ] && echo "$p"
    done
    return 0
}

# nodeK's end of its link is usidc-vK (scripts/cluster.sh).
lose_host() {
    local host=$1 link=usidc-v${1#node} how=$2
    shift 2
    case $how in
        cut) ip link set "$link" down ;;
        stop) [ $# -gt 0 ] || fail "lose_host $host stop: no process to stop"; kill -STOP "$@" ;;
        back)
            ip link set "$link" up
            [ $# -eq 0 ] || kill -CONT "$@" 2>/dev/null || true
            ;;
        *) fail "lose_host: cut, stop or back, not '$how'" ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
        mpirun) mpirun_cmd "${2:-}"; printf '%s\n' "${MPIRUN_LINE[@]}" ;;
        *) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
fi
