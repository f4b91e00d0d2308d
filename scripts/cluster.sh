#!/usr/bin/env bash
# A test cluster on one machine: N hosts, each a network namespace with its own hostname (a UTS
# namespace), joined by a bridge, on one shared file system -- an HPC cluster in miniature, for
# running usid-peaks across hosts with OpenMPI (and SLURM, see scripts/test-slurm.sh --nodes).
#
#   scripts/cluster.sh up N            make hosts node1..nodeN (N = 2..8); idempotent
#   scripts/cluster.sh down            remove everything `up` made, and stop every process on the hosts
#   scripts/cluster.sh status          the hosts, their addresses and whether each answers
#   scripts/cluster.sh wait [SECONDS]  until every host and the head reach each other (default 30 s;
#                                      a link brought back up takes seconds to carry traffic again)
#   scripts/cluster.sh exec HOST CMD.. run CMD on HOST (its network and hostname)
#   scripts/cluster.sh mpirun [mpirun options] -- CMD..
#                                      run an OpenMPI job across the hosts
#   scripts/cluster.sh shape [--delay MS] [--rate RATE] | shape off
#                                      emulate a slower network on every host's link (tc)
#
# Addresses: 198.18.0.K/24 for nodeK and 198.18.0.254 for the head (the bridge, in the machine's
# own namespace, where mpirun, slurmctld and the clients run). 198.18.0.0/15 is reserved for
# network benchmarks (RFC 2544) and never routed; no other address is used and no route leads
# off the machine (the bridge has no uplink, forwarding is not touched).
#
# mpirun: a hostfile with every host (slots = the machine's cores), an rsh agent that enters the
# host's namespaces with nsenter (no sshd), the out-of-band and the MPI TCP traffic restricted to
# the test link, ranks spread round-robin by node and not bound to cores (the hosts share the
# machine's cores: per-host binding would stack every host's first rank on core 0), and a rank
# waiting in MPI yields its core (on real hosts it spins on a core of its own; here it would take
# one from another host's compute). Ranks on one host talk through shared memory, across hosts
# over TCP.
#
# Exit status: 0 done, 1 failed, 2 bad usage, 77 this machine cannot make the namespaces (not
# root, no `ip`/`unshare`/`nsenter`, or the kernel refuses) -- what a test stage reports as skipped.
# Needs root, iproute2 and util-linux. State lives in $USID_CLUSTER_DIR (default
# /run/usid-peaks-cluster).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

prefix=usidc                     # every netns, link and bridge made here starts with it
state=${USID_CLUSTER_DIR:-/run/usid-peaks-cluster}
bridge=$prefix-br0
net=198.18.0                     # /24 out of 198.18.0.0/15
head_addr=$net.254

cannot() { say "cannot make a test cluster here: $*"; exit 77; }

netns_of() { echo "$prefix-$1"; }
uts_of() { echo "$state/uts/$1"; }
# The hosts of the cluster that is up, one "NAME ADDRESS" per line.
hosts() { [ -f "$state/hosts" ] && cat "$state/hosts"; return 0; }
host_names() { hosts | awk '{ print $1 }'; }

# Run a command on a host: its network and hostname; file system, users and pids are shared.
on() {
    local h=$1
    shift
    [ -e "/run/netns/$(netns_of "$h")" ] && [ -e "$(uts_of "$h")" ] || die "no host '$h' (cluster.sh status)"
    nsenter --net="/run/netns/$(netns_of "$h")" --uts="$(uts_of "$h")" -- "$@"
}

preflight() {
    [ "$(id -u)" -eq 0 ] || cannot "not root"
    local t
    for t in ip unshare nsenter flock; do
        command -v "$t" >/dev/null 2>&1 || cannot "no '$t' (iproute2, util-linux)"
    done
}

lock() {
    mkdir -p "$(dirname "$state")"
    exec 8>"$state.lock"
    flock -w 60 8 || die "another cluster.sh holds $state.lock"
}

# Every process on a host of ours: in one of our network namespaces (ip netns pids) or in one of
# our UTS namespaces (same inode as the bound file).
cluster_pids() {
    local ns f d ino
    declare -A uts_inos=()
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$prefix-" || true); do
        ip netns pids "$ns" 2>/dev/null || true
    done
    for f in "$state"/uts/*; do
        [ -e "$f" ] || continue
        ino=$(stat -L -c %i "$f" 2>/dev/null) || continue
        # An unmounted placeholder is a plain file on this file system, not a namespace.
        [ "$(stat -f -c %T "$f" 2>/dev/null)" = nsfs ] && uts_inos[$ino]=1
    done
    if [ ${#uts_inos[@]} -gt 0 ]; then
        for d in /proc/[0-9]*; do
            ino=$(stat -L -c %i "$d/ns/uts" 2>/dev/null) || continue
            [ -n "${uts_inos[$ino]:-}" ] && echo "${d#/proc/}"
        done
    fi
    return 0
}

stop_processes() {
    local pids alive p
    mapfile -t pids < <(cluster_pids | sort -u | grep -vx "$$" || true)
    [ ${#pids[@]} -gt 0 ] || return 0
    say "stopping ${#pids[@]} process(es) left on the hosts"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 25); do
        alive=()
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
        [ ${#alive[@]} -gt 0 ] || return 0
        sleep 0.2
    done
    kill -KILL "${alive[@]}" 2>/dev/null || true
}

# Remove everything with our prefix, whether or not the state file lists it: also what a run
# killed half-way through `up` made.
teardown() {
    local ns f l
    stop_processes
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$prefix-" || true); do
        ip netns del "$ns" 2>/dev/null || say "could not delete network namespace $ns"
    done
    for f in "$state"/uts/*; do
        [ -e "$f" ] || continue
        umount "$f" 2>/dev/null || true
    done
    for l in $(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep "^$prefix-" || true); do
        ip link del "$l" 2>/dev/null || true
    done
    rm -rf "$state"
}

# Whether a TCP connection to a closed port of ADDRESS is refused -- a live host -- rather than
# timing out or finding no route (the link is down); made on host FROM when given, else the head.
refused() {
    local err pre=()
    [ -z "${2:-}" ] || pre=(nsenter --net="/run/netns/$(netns_of "$2")")
    err=$(timeout 2 "${pre[@]}" bash -c "exec 3<>/dev/tcp/$1/9" 2>&1) && return 0
    [[ $err == *refused* ]]
}

# Whether host NAME at ADDRESS and the head reach each other. Both ways: after a link comes back
# each side's neighbour entry recovers on its own, and a host that answered the head at once has
# been seen unable to reach it for 5-6 s more -- the OpenMPI daemon started there then cannot call
# mpirun back.
answers() { refused "$2" && refused "$head_addr" "$1"; }

# Addresses only from our range: no IPv6 link-local one on a link of ours in this namespace.
no_ipv6() {
    local f=/proc/sys/net/ipv6/conf/$1/disable_ipv6
    [ ! -w "$f" ] || echo 1 >"$f"
}

# A private place for the generated files that mpirun and the agent read.
write_launch_files() {
    local h cores
    cores=$(nproc)
    : >"$state/hostfile"
    for h in $(host_names); do echo "$h slots=$cores" >>"$state/hostfile"; done
    # The rsh agent: OpenMPI calls it as `AGENT HOST COMMAND...`, COMMAND a shell command line.
    cat >"$state/rsh" <<EOF
#!/bin/sh
# rsh agent for OpenMPI on the usid-peaks test cluster: run a command line on a host.
host=\$1
shift
exec nsenter --net=/run/netns/$prefix-\$host --uts=$state/uts/\$host -- /bin/sh -c "\$*"
EOF
    chmod 755 "$state/rsh"
}

cmd_up() {
    local n=${1:-}
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] && [ "$n" -le 8 ] || { say "up N: N hosts, 2..8"; exit 2; }
    preflight
    lock
    if [ "$(hosts | wc -l)" -eq "$n" ]; then
        local h a ok=1
        while read -r h a; do answers "$h" "$a" || ok=0; done < <(hosts)
        if [ "$ok" -eq 1 ]; then
            say "already up: $n hosts"
            return 0
        fi
    fi
    teardown
    # The range must be ours alone on this machine.
    if ip -o addr show 2>/dev/null | grep -q " $net\."; then
        die "$net.0/24 is already in use here: $(ip -o addr show | grep " $net\." | head -1)"
    fi
    mkdir -p "$state/uts"
    trap 'rc=$?; if [ $rc -ne 0 ]; then say "up failed; removing what it made"; teardown; rm -f "$state.lock"; fi' EXIT
    ip link add "$bridge" type bridge 2>/dev/null || cannot "the kernel refuses a bridge"
    # Bridged frames between hosts must not meet the machine's firewall (br_netfilter).
    ip link set "$bridge" type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 \
        2>/dev/null || true
    no_ipv6 "$bridge"
    ip addr add "$head_addr/24" dev "$bridge"
    ip link set "$bridge" up
    local k h ns
    : >"$state/hosts.new"
    for k in $(seq "$n"); do
        h=node$k
        ns=$(netns_of "$h")
        ip netns add "$ns" 2>/dev/null || cannot "the kernel refuses a network namespace"
        # No IPv6 on the hosts: no link-local address appears beside ours.
        ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 \
            /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ ! -w "$f" ] || echo 1 >"$f"; done'
        touch "$(uts_of "$h")"
        unshare --uts="$(uts_of "$h")" hostname "$h" 2>/dev/null || cannot "the kernel refuses a UTS namespace"
        ip link add "$prefix-v$k" type veth peer name eth0 netns "$ns"
        no_ipv6 "$prefix-v$k"
        ip link set "$prefix-v$k" master "$bridge" up
        ip -n "$ns" addr add "$net.$k/24" dev eth0
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
        echo "$h $net.$k" >>"$state/hosts.new"
    done
    mv "$state/hosts.new" "$state/hosts"
    write_launch_files
    # Links take a moment to come up (bridge port learning).
    local a
    while read -r h a; do
        for _ in $(seq 50); do answers "$h" "$a" && break; sleep 0.1; done
        answers "$h" "$a" || die "$h ($a) and the head do not reach each other"
    done < <(hosts)
    trap - EXIT
    say "up: $n hosts, ${net}.1-$n; head $head_addr"
}

cmd_down() {
    [ "$(id -u)" -eq 0 ] || { say "down: run as root"; exit 1; }
    lock
    teardown
    # The lock too: nothing of ours stays behind (a waiting `up` holds the old file and goes on).
    rm -f "$state.lock"
    say "down"
}

cmd_status() {
    local h a name
    if [ "$(hosts | wc -l)" -eq 0 ]; then
        echo "no cluster (scripts/cluster.sh up N)"
        return 1
    fi
    echo "head   $head_addr ($bridge)"
    local bad=0
    while read -r h a; do
        name=$(on "$h" hostname 2>/dev/null || echo '?')
        if answers "$h" "$a"; then
            echo "$h  $a  hostname=$name  answers"
        else
            echo "$h  $a  hostname=$name  DOES NOT ANSWER"
            bad=1
        fi
    done < <(hosts)
    local q
    q=$(on node1 tc qdisc show dev eth0 2>/dev/null | grep -E 'netem|tbf' || true)
    [ -z "$q" ] || echo "shaping: $q"
    return "$bad"
}

cmd_wait() {
    local secs=${1:-30} h a t0=$SECONDS
    [[ $secs =~ ^[0-9]+$ ]] || { say "wait [SECONDS]"; exit 2; }
    [ -s "$state/hosts" ] || die "no cluster (scripts/cluster.sh up N)"
    while read -r h a; do
        until answers "$h" "$a"; do
            [ $((SECONDS - t0)) -lt "$secs" ] || die "$h ($a) and the head do not reach each other after $secs s"
            sleep 0.1
        done
    done < <(hosts)
}

cmd_exec() {
    [ $# -ge 2 ] || { say "exec HOST CMD..."; exit 2; }
    on "$@"
}

# stderr with one line of the launcher's left out. mpirun forks the rsh agent once per host, and
# both the child and mpirun put the child in a process group of its own; when the child has
# already exec'd the agent, mpirun's call fails with EACCES and it prints "plm:ssh: Warning:
# setpgid(P,P) failed in parent with errno=Permission denied(13)" (OpenMPI 5; 4 has the same code
# as plm:rsh) and carries on: the child had done it. A race of scheduling, seen on a busy machine
# with 3 hosts, nothing the job did. Every other line passes, as it comes. fd 3 keeps our caller's
# stdout open until the last line is out, so a caller that waits for our output (`$(...)`) also
# finds all of stderr written.
drop_setpgid_race() {
    grep --line-buffered -v -E \
        ' plm:(ssh|rsh): Warning: setpgid\([0-9]+,[0-9]+\) failed in parent with errno=.*\(13\)$' \
        3>&1 >&2 || true
}

cmd_mpirun() {
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ "${1:-}" = -- ] && [ $# -ge 2 ] || { say "mpirun [mpirun options] -- CMD..."; exit 2; }
    shift
    [ -s "$state/hostfile" ] || die "no cluster (scripts/cluster.sh up N)"
    mpirun_cmd no
    # As MCA variables in the environment, not options: the caller's own --mca, --map-by or
    # --bind-to then override them (mpirun refuses an MCA option given twice). The launcher's
    # settings under both releases' names: OpenMPI 4's ORTE reads OMPI_MCA_ (orte_default_hostfile,
    # plm_rsh_agent, rmaps_base_*, hwloc_base_*), OpenMPI 5's PRRTE reads PRTE_MCA_ under names of
    # its own; each ignores the other's. Without them OpenMPI 5 never reads the hostfile and
    # refuses `-np 4` on the head's own slots. The MPI library's settings (btl*, mpi_*) keep
    # OMPI_MCA_ in both; OpenMPI 5 takes vader as the old name of its sm transport.
    OMPI_MCA_orte_default_hostfile=$state/hostfile \
        PRTE_MCA_prte_default_hostfile=$state/hostfile \
        OMPI_MCA_plm_rsh_agent=$state/rsh \
        PRTE_MCA_plm_ssh_agent=$state/rsh \
        OMPI_MCA_oob_tcp_if_include=$net.0/24 \
        PRTE_MCA_oob_tcp_if_include=$net.0/24 \
        OMPI_MCA_rmaps_base_mapping_policy=node \
        PRTE_MCA_rmaps_default_mapping_policy=node \
        OMPI_MCA_hwloc_base_binding_policy=none \
        PRTE_MCA_hwloc_default_binding_policy=none \
        OMPI_MCA_btl=self,vader,tcp \
        OMPI_MCA_btl_tcp_if_include=$net.0/24 \
        OMPI_MCA_mpi_yield_when_idle=1 \
        launch_watched "${MPIRUN_LINE[@]}" "${opts[@]}" "$@" 2> >(drop_setpgid_race)
}

# Shape the traffic every host sends: netem (delay and rate) where the kernel has it; otherwise
# a token bucket for the rate alone, and the delay is refused in one line.
cmd_shape() {
    [ -s "$state/hosts" ] || die "no cluster (scripts/cluster.sh up N)"
    local delay='' rate='' h
    if [ "${1:-}" = off ]; then
        for h in $(host_names); do on "$h" tc qdisc del dev eth0 root 2>/dev/null || true; done
        say "shaping off"
        return 0
    fi
    while [ $# -gt 0 ]; do
        case $1 in
            --delay) delay=$2; shift 2 ;;
            --rate) rate=$2; shift 2 ;;
            *) say "shape [--delay MS] [--rate RATE] | shape off"; exit 2 ;;
        esac
    done
    [ -n "$delay$rate" ] || { say "shape: --delay and/or --rate"; exit 2; }
    for h in $(host_names); do
        on "$h" tc qdisc del dev eth0 root 2>/dev/null || true
        if on "$h" tc qdisc add dev eth0 root netem ${delay:+delay "${delay}ms"} ${rate:+rate "$rate"} \
            2>/dev/null; then
            continue
        fi
        [ -z "$delay" ] || die "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): no delay emulation"
        # tbf: a burst of a few MTUs and a short queue, like a switch port's buffer.
        on "$h" tc qdisc add dev eth0 root tbf rate "$rate" burst 64kb latency 5ms \
            || die "tc cannot shape $h's link"
    done
    say "shaping every host's link: ${delay:+delay ${delay} ms }${rate:+rate $rate}"
}

case ${1:-} in
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down ;;
    status) shift; cmd_status ;;
    wait) shift; cmd_wait "$@" ;;
    exec) shift; cmd_exec "$@" ;;
    mpirun) shift; cmd_mpirun "$@" ;;
    shape) shift; cmd_shape "$@" ;;
    -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
esac
