#!/usr/bin/env bash
# The README's two commands on a fresh Debian, as a new user runs them: a minimal chroot of
# RELEASE made with debootstrap from the Debian package registry this machine reaches, the
# project's committed tree cloned into it, then `bash scripts/demo.sh` and `bash scripts/test.sh`
# inside, each timed. Prints both times, the test tally and any line of MPI's on the demo's stderr,
# and removes everything it made, also after a failure. Root only; not a stage of scripts/test.sh
# (far too long for CI, which runs Debian 12 itself): the check for Debian 13.
#
#   scripts/test-fresh.sh bookworm|trixie [--keep] [--only-demo] [--lock FILE] [--logs DIR]
#   scripts/test-fresh.sh --check-cleanup      the clean-up path alone, on purpose (seconds)
#
#   --keep       leave the chroot (its path is printed) instead of removing it
#   --only-demo  the demo alone
#   --lock FILE  the demo and the tests run holding an exclusive flock(1) on FILE, so that on a
#                machine where other heavy jobs take FILE shared their times are the commands'
#                own; making the chroot (downloads) holds nothing, and the wait is not timed
#   --logs DIR   the two commands' stdout and stderr copied to DIR (demo.log, demo.err, test.log,
#                test.err), also when they fail
#
# What the chroot takes from this machine, and only that:
#   - the package settings: apt's mirror (the URIs of this machine's Debian sources, with
#     RELEASE's suites) and Acquire options, /etc/pip.conf, the certificate authorities this
#     machine adds to Debian's (/usr/local/share/ca-certificates: a proxy's), the PIP_*, SSL_*,
#     CURL_CA_BUNDLE and REQUESTS_CA_BUNDLE variables (and the files they name), resolv.conf;
#   - this machine's Rust toolchain, bind-mounted read-only at the same path: a new user installs
#     Rust with rustup, which cannot reach its servers from here. CARGO_HOME starts empty, so the
#     crates are fetched and built cold;
#   - /proc, /sys, /dev, /dev/pts and /dev/shm, which MPI (and apt's logs) need.
# Daemons are not started by package installs (policy-rc.d, as in Debian's container images).
#
# Safety: every mount is made in a mount namespace of the script's own, so none is ever visible on
# this machine's side, and each is undone (deepest first) when the command inside ends, after the
# processes left in the chroot are stopped. The tree is then deleted with `rm --one-file-system`
# only when nothing is mounted below it (a delete through a live bind mount would take the
# toolchain or /dev with it); otherwise it is left, and the script says so.
#
# Sourced (. scripts/test-fresh.sh), it gives other tests (issue 22: a wheel in a chroot that has
# only python3-venv) the same parts:
#   fresh_root RELEASE DIR [PACKAGE...]   a minimal chroot of RELEASE in DIR, settings copied
#   in_root DIR CMD...                    CMD in it (as root, in /root), mounts around it
#   remove_root DIR                       stop, unmount, delete; refuses while anything is mounted
#
# Environment: TMPDIR (where the chroot is made, default /var/tmp).
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The host's variables the chroot inherits: package registries and certificates.
carried_env() {
    env | grep -E '^(PIP_|SSL_|CURL_CA_BUNDLE=|REQUESTS_CA_BUNDLE=)' || true
}

# The Debian mirror URI this machine uses (its first deb822 or one-line source), else Debian's.
mirror() {
    local uri
    uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v security | head -n 1 || true)
    [ -n "$uri" ] || uri=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list \
        2>/dev/null | grep -v security | head -n 1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

fresh_root() {
    local release=$1 root=$2
    shift 2
    local uri
    uri=$(mirror)
    apt_install debootstrap
    say "debootstrap $release from $uri into $root"
    # ca-certificates: any installed Debian has it (minbase does not), and it carries the
    # certificate authorities of this machine's own below.
    local include
    include=$(IFS=,; echo "ca-certificates${*:+,$*}")
    debootstrap --variant=minbase --include="$include" "$release" "$root" "$uri" \
        >"$root.debootstrap.log" 2>&1 \
        || { tail -n 20 "$root.debootstrap.log" >&2; die "debootstrap $release failed"; }
    rm -f "$root.debootstrap.log"
    # The release's own suites on this machine's mirror, security updates included.
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $uri
Suites: $release $release-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${uri%/debian}/debian-security
Suites: $release-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local f
    for f in /etc/apt/apt.conf.d/*; do
        grep -q '^Acquire' "$f" 2>/dev/null && cp "$f" "$root/etc/apt/apt.conf.d/"
    done
    # The authorities this machine adds to Debian's (a proxy's, say), installed as an administrator
    # installs them, so that every later update of the bundle keeps them.
    if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
        cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
        chroot "$root" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in $root"
    fi
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    [ ! -f /etc/pip.conf ] || cp /etc/pip.conf "$root/etc/pip.conf"
    # The files and folders the carried variables name, at the same paths (the certificates'
    # bundle is the chroot's own, made above).
    local v path
    while IFS= read -r v; do
        path=${v#*=}
        if [ -e "$root$path" ]; then
            continue
        elif [ -f "$path" ]; then
            mkdir -p "$root$(dirname "$path")"
            cp "$path" "$root$path"
        elif [ -d "$path" ]; then
            mkdir -p "$root$path"
            cp -r "$path/." "$root$path/"
        fi
    done < <(carried_env; grep -h '^ *cert *=' /etc/pip.conf 2>/dev/null | sed 's/^ *cert *= */cert=/')
}

# The mounts below DIR in this mount namespace, deepest first.
mounts_below() {
    local root
    root=$(realpath "$1")
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Inside the private mount namespace (in_root's `--inside`): mount, run, stop, unmount.
inside() {
    local root=$1 sysroot
    shift
    sysroot=$(rustc --print sysroot)
    # The root a mount of its own, as on a machine: `ip netns exec` (the test cluster) makes /
    # a slave mount and fails with EINVAL where / is only a directory.
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    mount -t tmpfs -o mode=1777,size=2g shm "$root/dev/shm"
    mkdir -p "$root$sysroot"
    mount --bind "$sysroot" "$root$sysroot"
    mount -o remount,bind,ro "$root$sysroot"
    local rc=0
    if [ -n "${TEST_FRESH_FAIL_AFTER_MOUNTS:-}" ]; then
        say "failing on purpose after the mounts (--check-cleanup)"
        rc=1
    else
        local vars=()
        mapfile -t vars < <(carried_env)
        chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb "${vars[@]}" \
            PATH="$sysroot/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
            CARGO_HOME=/root/.cargo /bin/bash -c 'cd /root && exec "$@"' in-root "$@" || rc=$?
    fi
    stop_processes "$root"
    local m
    for m in $(mounts_below "$root"); do
        umount "$m" 2>/dev/null || umount -l "$m" || say "could not unmount $m"
    done
    return "$rc"
}

# Every process whose root is DIR (daemons a test left behind): TERM, then KILL.
stop_processes() {
    local root pids p
    root=$(realpath "$1")
    for round in TERM KILL; do
        pids=()
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids+=("${p#/proc/}")
        done
        [ ${#pids[@]} -gt 0 ] || return 0
        [ "$round" = KILL ] || say "stopping ${#pids[@]} process(es) left in the chroot"
        kill -"$round" "${pids[@]}" 2>/dev/null || true
        sleep 2
    done
}

in_root() {
    local root=$1
    shift
    unshare --mount --propagation private -- bash "$repo/scripts/test-fresh.sh" --inside "$root" "$@"
}

remove_root() {
    local root=$1 left
    [ -d "$root" ] || return 0
    stop_processes "$root"
    left=$(mounts_below "$root")
    if [ -n "$left" ]; then
        say "NOT deleting $root: still mounted below it: $(echo "$left" | tr '\n' ' ')"
        return 1
    fi
    rm -rf --one-file-system "$root"
}

# The clean-up path on purpose: mounts made, the command fails, everything is undone and deleted;
# then a mount this script did not make blocks the delete, which must refuse and keep it.
check_cleanup() {
    local root sysroot before
    root=$(mktemp -d "${TMPDIR:-/var/tmp}/usid-fresh-check.XXXXXX")
    sysroot=$(rustc --print sysroot)
    before=$(find "$sysroot" | wc -l)
    mkdir -p "$root"/{proc,sys,dev,root}
    TEST_FRESH_FAIL_AFTER_MOUNTS=1 in_root "$root" true && fail "the failing run reported success"
    [ -z "$(mounts_below "$root")" ] || fail "mounts left below $root"
    remove_root "$root" || fail "remove_root refused a tree with nothing mounted"
    [ ! -e "$root" ] || fail "$root still exists"
    [ "$(find "$sysroot" | wc -l)" = "$before" ] || fail "the toolchain lost files"
    [ -c /dev/null ] || fail "/dev/null is gone"
    say "ok: a run failing after its mounts left no mount, and the tree was deleted; toolchain and /dev intact"

    root=$(mktemp -d "${TMPDIR:-/var/tmp}/usid-fresh-check.XXXXXX")
    local keep
    keep=$(mktemp -d)
    touch "$keep/precious"
    mkdir -p "$root/busy"
    mount --bind "$keep" "$root/busy"
    if remove_root "$root" 2>/dev/null; then
        umount "$root/busy"
        fail "remove_root deleted a tree with a live mount below it"
    fi
    [ -e "$keep/precious" ] || fail "the delete went through the mount"
    umount "$root/busy"
    remove_root "$root"
    rm -rf "$keep"
    say "ok: a tree with a live mount below it was refused, and what the mount showed kept"
}

# `bash scripts/X` in the clone inside ROOT, timed; its output in ROOT/root/X.log and .err (and
# in $logs when set). Sets $secs, $rc. The command does not inherit the lock's descriptor.
timed_in_root() {
    local root=$1 name=$2 t0=$SECONDS
    shift 2
    rc=0
    in_root "$root" bash -c 'cd usid-peaks && "$@" >"/root/$0.log" 2>"/root/$0.err"' "$name" "$@" \
        {lock_fd}>&- || rc=$?
    secs=$((SECONDS - t0))
    [ -z "$logs" ] || cp "$root/root/$name.log" "$root/root/$name.err" "$logs/"
}

run_release() {
    local release=$1 keep=$2 only_demo=$3 root
    case $release in bookworm | trixie) ;; *) say "RELEASE: bookworm or trixie"; exit 2 ;; esac
    [ "$(id -u)" -eq 0 ] || die "root only (debootstrap, chroot, mounts)"
    need rustc "the toolchain bind-mounted into the chroot"
    root=$(mktemp -d "${TMPDIR:-/var/tmp}/usid-fresh-$release.XXXXXX")
    # A root directory as a system's: apt's downloads run as user _apt, who must pass through it.
    chmod 755 "$root"
    # shellcheck disable=SC2064 # the paths are fixed now
    if [ "$keep" -eq 1 ]; then
        trap "say 'kept $root'" EXIT
    else
        trap "rc=\$?; remove_root '$root' || rc=1; exit \$rc" EXIT
    fi
    trap 'exit 130' INT TERM
    local t0=$SECONDS
    fresh_root "$release" "$root"
    say "chroot made in $((SECONDS - t0)) s"
    [ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] \
        || say "the checkout has uncommitted changes: the chroot gets the committed tree ($(git -C "$repo" rev-parse --short HEAD))"
    git clone -q --no-checkout "$repo" "$root/root/usid-peaks"
    git -C "$root/root/usid-peaks" checkout -q "$(git -C "$repo" rev-parse HEAD)"

    [ -z "$logs" ] || mkdir -p "$logs"
    # The lock's descriptor (/dev/null's without --lock), which timed_in_root's command closes.
    if [ -n "$lock" ]; then
        exec {lock_fd}>>"$lock"
        say "waiting for an exclusive hold of $lock"
        flock -x "$lock_fd"
    else
        exec {lock_fd}</dev/null
    fi
    timed_in_root "$root" demo bash scripts/demo.sh
    local demo_rc=$rc demo_s=$secs
    say "$release: demo: exit $demo_rc in $demo_s s"
    # MPI's own lines (OpenMPI, PRRTE, PMIx, hwloc) on the demo's stderr: it should hold ours only.
    local mpi_lines
    mpi_lines=$(grep -Ev '^(bootstrap|demo|usid-peaks|wrote|test-fresh):? ' "$root/root/demo.err" \
        | grep -Ei 'btl|prte|orte|pmix|open ?mpi|mpirun|hwloc|^-{20,}' || true)
    [ -z "$mpi_lines" ] || { say "$release: MPI lines on the demo's stderr:"; echo "$mpi_lines" >&2; }
    if [ "$demo_rc" -ne 0 ]; then
        tail -n 30 "$root/root/demo.err" >&2
        fail "$release: the demo failed"
    fi
    [ "$only_demo" -eq 0 ] || return 0
    timed_in_root "$root" test bash scripts/test.sh
    local test_rc=$rc test_s=$secs
    exec {lock_fd}>&-
    say "$release: tests: exit $test_rc in $test_s s; $(grep -h '^test: ' "$root/root/test.err" | tail -n 1)"
    grep -h '^=== .*: \(ok\|SKIPPED\|FAILED\)' "$root/root/test.err" | sed "s/^/$release: /" >&2 || true
    grep -h '^test result:\|^[0-9]* passed' "$root/root/test.log" "$root/root/test.err" 2>/dev/null \
        | sed "s/^/$release: /" >&2 || true
    if [ "$test_rc" -ne 0 ]; then
        tail -n 40 "$root/root/test.err" >&2
        fail "$release: the tests failed"
    fi
    say "$release: demo $demo_s s, tests $test_s s; MPI lines on the demo's stderr: $(echo -n "$mpi_lines" | grep -c . || true)"
    [ -z "$mpi_lines" ] || fail "$release: the demo's stderr holds MPI's lines"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    case ${1:-} in
        --inside) shift; inside "$@" ;;
        --check-cleanup) [ "$(id -u)" -eq 0 ] || die "root only"; check_cleanup ;;
        bookworm | trixie)
            release=$1 keep=0 only_demo=0 lock="" logs="" lock_fd=""
            shift
            options "lock logs" "keep only-demo" "$@"
            run_release "$release" "$keep" "$only_demo"
            ;;
        *) usage >&2; exit 2 ;;
    esac
fi
