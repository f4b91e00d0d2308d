#!/usr/bin/env bash
# End-to-end test of the sbatch templates on a throw-away single-host SLURM cluster.
#
# Starts munged, slurmctld and slurmd on this machine (Debian's munge and slurm-wlm, installed when
# missing) with all their state -- slurm.conf, spool, logs, munge key and socket -- in one temp
# dir, then:
#   1. srun --mpi=pmix -n 2: the cluster launches PMIx ranks at all;
#   2. every template with 2 ranks on a small generated map -- single-node.sbatch (srun, and
#      LAUNCHER=mpirun), multi-node.sbatch (2 ranks on our one node), array.sbatch (2 files, 1
#      rank each): each must report its ranks and its Peak_Indices, Peak_Count and
#      Peak_Frequencies must equal a single-process run; and single-node.sbatch with COMMAND=sho,
#      whose SHO Guess and Fit must equal a single-process fit;
#   3. requeue.sbatch, sent TERM mid-run as --signal=B:TERM@... would: it must requeue itself,
#      resume from its checkpoint, and end with the same results (skip with --no-requeue).
# Prints one summary line, stops everything it started (also on failure, printing the daemons'
# logs), and exits 0 only on success. Needs root: slurmd runs as root and munged as user munge.
#
# With --nodes N (2..8) the cluster spans N hosts instead: the network-namespace hosts of
# scripts/cluster.sh (own hostname, own address on a bridge), one slurmd on each, the controller
# and the clients on the head (the machine's own namespace), each slurmd with a TmpFS of its own
# as on real nodes. Then:
#   1. srun --mpi=pmix on every node: a PMIx rank on each, each with its own hostname;
#   2. multi-node.sbatch with --nodes=N, with srun --mpi=pmix (1 rank x 2 threads per node) and
#      with mpirun inside the allocation (2 ranks x 1 thread per node): each must report its ranks
#      and N nodes, and its results must equal a single-process run;
#   3. a lost node: multi-node.sbatch with srun, 2 nodes x 1 rank, --rank-timeout 5, node2's link
#      cut after at least 3 batches checkpointed. Every usid-peaks process must be gone within the
#      timeout + 10 s, srun and the batch script within the timeout + 15 s (the template stops a
#      launcher that outlives the ranks by its grace, 5 s), the job FAILED with exit 7 and one
#      line of ours naming node2, the file untouched; with the link back (cluster.sh wait; node2
#      resumed, should slurmctld have marked it DOWN) the same job again resumes from the
#      checkpoint and ends equal to one process.
# Exit 77 when this machine cannot make the namespaces (a skip). The cluster is removed on exit.
#
# Usage: scripts/test-slurm.sh [--nodes N] [--no-requeue] [--requeue-mpirun] [--keep]
#   --requeue-mpirun  also run the requeue check with LAUNCHER=mpirun (about 40 s more: mpirun
#                     waits out its odls_base_sigkill_timeout twice when a rank stops)
#   --keep            keep the state dir (job output, logs) after a successful run too
# Environment:
#   USID_PEAKS           the binary to test (default: target/release/usid-peaks, built if needed)
#   TEST_SLURM_TIMEOUT   seconds to wait for each job (default 120)
#   TEST_SLURM_LOST      --nodes: the lost-node cases, LAUNCHER:FAULT with srun or mpirun and cut
#                        or stop (SIGSTOP to node2's ranks), e.g. "srun:cut srun:stop mpirun:cut"
#                        (default srun:cut)
#   TMPDIR               where the state dir is made (default /tmp)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

timeout_s=${TEST_SLURM_TIMEOUT:-120}
nodes=1 no_requeue=0 requeue_mpirun=0 keep=0
options "nodes" "no-requeue requeue-mpirun keep" "$@"
[[ $nodes =~ ^[0-9]+$ ]] && [ "$nodes" -ge 1 ] && [ "$nodes" -le 8 ] || { say "--nodes N, N = 1..8"; exit 2; }
requeue_launchers=(srun)
[ "$requeue_mpirun" -eq 0 ] || requeue_launchers=(srun mpirun)

if [ "$(id -u)" -ne 0 ]; then
    # Across hosts, like every test of the namespace cluster: a machine that cannot host it skips.
    [ "$nodes" -eq 1 ] || { say "cannot make a test cluster here: not root"; exit 77; }
    fail "run as root (slurmd must run as root; munged is started as user munge)"
fi

# A SLURM job around this script would leak its SLURM_* variables into our sbatch/srun calls.
while IFS= read -r v; do unset "$v"; done < <(compgen -v SLURM_ || true)

# --- packages -------------------------------------------------------------------------------------
# SLURM's PMIx plugin dlopens the unversioned libpmix.so, which only the -dev package has; h5diff
# (hdf5-tools) compares the results; --nodes: the namespace hosts need iproute2 (ip, tc).
packages=(munge slurm-wlm libpmix-dev openmpi-bin hdf5-tools)
[ "$nodes" -eq 1 ] || packages+=(iproute2)
apt_install "${packages[@]}"
for t in munged slurmctld slurmd sbatch mpirun h5diff; do need "$t"; done
id munge >/dev/null 2>&1 || fail "no user 'munge' (the munge package creates it)"

# --- the binary under test ------------------------------------------------------------------------
if [ -n "${USID_PEAKS:-}" ]; then
    bin=$USID_PEAKS
else
    (cd "$repo" && cargo build --release --quiet) || fail "cargo build --release failed"
    bin=$repo/target/release/usid-peaks
fi
bin=$(command -v "$bin") || fail "usid-peaks binary '$bin' not found"
SECONDS=0 # the summary's time: the test itself, without package installs and the build

# --- state dir: one per machine, locked, wiped on start -------------------------------------------
# A fixed place (not mktemp) so that a run killed before its cleanup leaves daemons we can still
# recognise and stop next time; the lock makes a concurrent second run wait instead of colliding.
tmp=${TMPDIR:-/tmp}
# munged (user munge) must reach its socket: a private TMPDIR (e.g. under /root) will not do.
setpriv --reuid=munge --regid=munge --clear-groups test -x "$tmp" 2>/dev/null || tmp=/tmp
base=$tmp/usid-peaks-test-slurm
exec 9>"$base.lock"
flock -w 120 9 || fail "another test-slurm run holds $base.lock"

# Every process of our test cluster, and only those: the daemons run in $base (they are started
# there, and slurmstepd inherits it) and the job scripts, srun and the ranks name files under it.
# A recycled pid of some other process matches neither.
cluster_pids() {
    local d argv
    for d in /proc/[0-9]*; do
        [ "${d#/proc/}" = "$$" ] && continue
        if [ "$(readlink "$d/cwd" 2>/dev/null)" = "$base" ]; then
            echo "${d#/proc/}"
            continue
        fi
        mapfile -d '' -t argv 2>/dev/null <"$d/cmdline" || continue
        [[ " ${argv[*]} " == *"$base/"* ]] && echo "${d#/proc/}"
    done
    return 0
}

# TERM, 10 s to go, then KILL.
stop_cluster() {
    local pids alive p
    mapfile -t pids < <(cluster_pids)
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
        alive=()
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
        [ ${#alive[@]} -gt 0 ] || break
        sleep 0.2
    done
    [ ${#alive[@]} -eq 0 ] || kill -KILL "${alive[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}

# A run killed before its cleanup (kill -9, a lost CI runner) leaves its cluster running.
if [ -d "$base" ]; then
    say "cleaning up after a previous run"
    stop_cluster
    rm -rf "$base"
fi
mkdir -p "$base"/{log,ctld,spool,tmp,work}
# munged insists that its socket directory is reachable by everyone and its key private.
chmod 755 "$base"
mkdir -m 755 "$base/munge"
chown munge:munge "$base/munge"
work=$base/work
started=0
cluster_made=0
# A copy, so a rebuild in the checkout while the jobs run cannot change what they run.
cp "$bin" "$base/usid-peaks"
"$base/usid-peaks" find --help >/dev/null 2>&1 || fail "'$bin find --help' fails: is find built?"
bin=$base/usid-peaks

# --- cleanup, on every exit -----------------------------------------------------------------------
print_logs() {
    local f n
    # The *.out files hold what a daemon said before it opened its log (then the same again).
    for f in "$base"/log/*.out "$base"/log/*.log "$base"/munge/munged.log "$work"/*.out "$work"/*.err; do
        [ -s "$f" ] || continue
        case $f in *.log) n=40 ;; "$base"/log/*) n=10 ;; *) n=40 ;; esac
        printf '\n----- %s (last %s lines) -----\n' "${f#"$base"/}" "$n" >&2
        tail -n "$n" "$f" >&2
    done
}

cleanup() {
    local rc=$?
    set +e
    if [ "$started" -eq 1 ]; then
        # Jobs first: their slurmstepd processes outlive slurmd otherwise.
        squeue -h -o %A 2>/dev/null | xargs -r scancel >/dev/null 2>&1
        for _ in $(seq 30); do
            [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    if [ "$rc" -ne 0 ]; then print_logs; fi
    stop_cluster
    [ "$cluster_made" -eq 0 ] || cluster down
    if [ "$rc" -ne 0 ]; then
        say "state kept in $base"
    elif [ "$keep" -eq 0 ]; then
        rm -rf "$base"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the hosts (--nodes N) ------------------------------------------------------------------------
if [ "$nodes" -gt 1 ]; then
    # One user of the namespace cluster at a time (scripts/test-cluster.sh takes the same lock).
    exec 7>"$tmp/usid-peaks-test-cluster.lock"
    flock -w 600 7 || fail "another test holds $tmp/usid-peaks-test-cluster.lock"
    cluster_rc=0
    cluster_made=1
    cluster up "$nodes" 7>&- || cluster_rc=$?
    # 77: no namespaces here (cluster.sh said why in one line); the cleanup removes what was made.
    [ "$cluster_rc" -eq 0 ] || exit "$cluster_rc"
fi

# In $base, so that the daemon and the slurmstepd it forks are found by cluster_pids.
start_daemon() {
    local name=$1
    shift
    # 9>&- 7>&-: a daemon left running must not hold our locks.
    (cd "$base" && exec "$@" 9>&- 7>&-) >"$base/log/$name.out" 2>&1 &
}

# A free TCP port on localhost, so a system SLURM or anything else listening does not collide.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# Poll a command until it succeeds or $2 seconds pass.
wait_for() {
    local what=$1 seconds=$2 end
    shift 2
    end=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || fail "$what did not happen within $seconds s"
        sleep 0.2
    done
}

# --- munge ----------------------------------------------------------------------------------------
socket=$base/munge/munge.socket
mungekey --create --keyfile="$base/munge/munge.key" 2>/dev/null \
    || dd if=/dev/urandom of="$base/munge/munge.key" bs=1 count=1024 status=none
chown munge:munge "$base/munge/munge.key"
chmod 400 "$base/munge/munge.key"
start_daemon munged setpriv --reuid=munge --regid=munge --init-groups \
    munged --foreground --key-file="$base/munge/munge.key" --socket="$socket" \
    --pid-file="$base/munge/munged.pid" --log-file="$base/munge/munged.log" \
    --seed-file="$base/munge/munged.seed"
wait_for "munged answering on $socket" 10 munge --socket="$socket" --no-input

# --- slurm ----------------------------------------------------------------------------------------
host=$(hostname -s)
export SLURM_CONF=$base/slurm.conf
if [ "$nodes" -eq 1 ]; then
    ctld_addr=127.0.0.1
    slurmd_files="SlurmdSpoolDir=$base/spool
SlurmdPidFile=$base/slurmd.pid
SlurmdLogFile=$base/log/slurmd.log"
    node_lines="NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN"
    node_names=$host
else
    # The controller on the head, every slurmd on a host of its own; %n: the node's name.
    ctld_addr=$(cluster status | awk '$1 == "head" { print $2 }')
    slurmd_files="SlurmdSpoolDir=$base/spool/%n
SlurmdPidFile=$base/slurmd-%n.pid
SlurmdLogFile=$base/log/slurmd-%n.log"
    node_lines=$(cluster status | awk '$1 ~ /^node/ { printf "NodeName=%s NodeAddr=%s CPUs=2 RealMemory=1000 State=UNKNOWN\n", $1, $2 }')
    node_names=$(cluster status | awk '$1 ~ /^node/ { print $1 }' | paste -sd, -)
fi
# Single host, no cgroups, no accounting. config_overrides: the node is whatever we declare (2 CPUs
# for 2 ranks even on a 1-core runner). cred_expire: a requeued job waits this long before it may
# start again (120 s by default); sched_interval: it is then started within a second, not a minute.
# TmpFS: the PMIx plugin's per-step dirs (/tmp/spmix_appdir_UID_JOB.STEP otherwise) would collide
# with those a killed earlier run left, as job ids start at 1 again.
cat >"$SLURM_CONF" <<EOF
ClusterName=usidtest
SlurmctldHost=$host($ctld_addr)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket,cred_expire=5
StateSaveLocation=$base/ctld
TmpFS=$base/tmp
SlurmctldPidFile=$base/slurmctld.pid
SlurmctldLogFile=$base/log/slurmctld.log
$slurmd_files
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
ReturnToService=2
MailProg=/bin/true
$node_lines
PartitionName=test Nodes=$node_names Default=YES MaxTime=INFINITE State=UP
EOF
# SLURM 24.05 and later (Debian 13) set up cgroups (through systemd) even with proctrack/linuxproc
# and fail without a cgroup file system; this throw-away cluster tracks its processes itself and
# leaves the machine's cgroups alone. (Earlier versions neither need nor know the setting.)
if printf '%s\n%s\n' 24.05 "$(slurmd -V | awk '{ print $2 }')" | sort -V -C; then
    echo "CgroupPlugin=disabled" >"$base/cgroup.conf"
fi
started=1
start_daemon slurmctld slurmctld -D -c -f "$SLURM_CONF"
if [ "$nodes" -eq 1 ]; then
    start_daemon slurmd slurmd -D -c -f "$SLURM_CONF" -N "$host"
else
    for n in ${node_names//,/ }; do
        mkdir -p "$base/spool/$n" "$base/nodetmp/$n"
        # On the host's network and hostname, and in a mount namespace of its own where TmpFS is
        # the node's own directory: the PMIx plugin's per-step dirs under it carry no node name
        # and would collide on the shared file system.
        start_daemon "slurmd-$n" bash "$repo/scripts/cluster.sh" exec "$n" \
            unshare --mount --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
            sh "$base/nodetmp/$n" "$base/tmp" slurmd -D -c -f "$SLURM_CONF" -N "$n"
    done
fi
node_idle() { [ "$(sinfo -h -N -o %T 2>/dev/null | sort -u)" = idle ]; }
wait_for "nodes $node_names idle" 30 node_idle

# --- 1. PMIx launch -------------------------------------------------------------------------------
if [ "$nodes" -eq 1 ]; then
    # shellcheck disable=SC2016 # expanded by each rank, not here
    ranks=$(timeout 30 srun --mpi=pmix -n 2 -t 1 bash -c 'echo "${PMIX_RANK:-none}"' | sort | tr '\n' ' ')
    [ "$ranks" = "0 1 " ] || fail "srun --mpi=pmix -n 2 gave PMIx ranks '$ranks', expected '0 1'"
else
    # One rank per node: ranks 0..N-1, on N distinct hostnames (each slurmd's own).
    # shellcheck disable=SC2016 # expanded by each rank, not here
    got=$(timeout 30 srun --mpi=pmix -N "$nodes" --ntasks-per-node=1 -t 1 \
        bash -c 'echo "${PMIX_RANK:-none} $(hostname)"' | sort -n)
    want=$(for k in $(seq "$nodes"); do echo "$((k - 1)) node$k"; done)
    [ "$got" = "$want" ] || fail "srun --mpi=pmix -N $nodes gave '$(echo $got)', expected '$(echo $want)'"
fi

json_of() { # FILE KEY: the value of KEY in the last JSON line of FILE (strings unquoted)
    json_field "$(grep '^{' "$1" | tail -n 1)" "$2"
}

# A map NAME.h5 of ROWS x COLS pixels, and NAME-reference.h5: its results from a single-process run
# (reference_run); `group` is their group.
make_map() {
    local name=$1 rows=$2 cols=$3 seed=$4
    shift 4 # the rest: find options of the reference run, the same the jobs on this map get
    "$bin" generate "$work/$name.h5" --rows "$rows" --cols "$cols" --seed "$seed" >/dev/null 2>&1 \
        || fail "usid-peaks generate failed"
    reference_run "$name" find "$@"
    group=$run_group
}

# NAME-reference.h5 (NAME-COMMAND-reference.h5 for another COMMAND than find): a copy of NAME.h5
# with COMMAND's results from a single-process run outside any launcher (env -i: no SLURM or MPI
# variables that could make it join a job); `run_group` is their group.
reference_run() {
    local name=$1 command=$2 ref
    shift 2
    ref=$work/$name-reference
    [ "$command" = find ] || ref=$work/$name-$command-reference
    cp "$work/$name.h5" "$ref.h5"
    env -i PATH="$PATH" HOME="${HOME:-/root}" "$bin" "$command" "$ref.h5" --json --quiet "$@" \
        >"$ref.json" 2>"$ref.err" || {
        cat "$ref.err" >&2
        fail "the single-process $command reference run on $name.h5 failed"
    }
    run_group=$(json_of "$ref.json" group)
    [ -n "$run_group" ] || fail "no results group in the reference's --json: $(cat "$ref.json")"
}

job_field() { scontrol show job -o "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# Wait until job $1 ends (a requeued job passes through PENDING again); its final state goes to
# $job_state. Not echoed: a $(...) subshell would outlive a killed run and hold the lock meanwhile.
wait_job() {
    local jid=$1 end
    end=$((SECONDS + timeout_s))
    while :; do
        job_state=$(job_field "$jid" JobState)
        case $job_state in
            PENDING | CONFIGURING | RUNNING | COMPLETING | REQUEUED | REQUEUE_HOLD | REQUEUE_FED \
                | RESIZING | SUSPENDED | SIGNALING | STAGE_OUT) ;;
            *) return 0 ;;
        esac
        [ "$SECONDS" -lt "$end" ] || { job_state="still $job_state after $timeout_s s"; return 0; }
        sleep 0.3
    done
}

# Submit TEMPLATE with 2 ranks on NAME.h5, a fresh copy of MAP.h5 (NAME.h5 as it is when MAP is
# NAME; more sbatch options may follow);
# echo the job id. The output goes to NAME-<job id>.out.
submit() {
    local template=$1 name=$2 map=$3
    shift 3
    [ "$map" = "$name" ] || cp "$work/$map.h5" "$work/$name.h5"
    INPUT=$work/$name.h5 USID_PEAKS=$bin sbatch --parsable --nodes=1 --ntasks=2 --cpus-per-task=1 \
        --time=10 --chdir="$work" --output="$work/$name-%j.out" --error="$work/$name-%j.err" "$@" \
        "$repo/slurm/$template"
}

# Job JOB (its output OUT) ended well, reported RANKS ranks on NODES nodes (default 1), and wrote
# into H5 the results of the reference REF: the datasets `compare` names (peak finding's when
# empty) of the group `group`.
compare=()
check_job() {
    local job=$1 out=$2 h5=$3 ranks=$4 ref=$5 on=${6:-1}
    wait_job "$job"
    [ "$job_state" = COMPLETED ] || fail "job $job ended $job_state (exit $(job_field "$job" ExitCode))"
    # A job that ran through: its stderr holds the template's and usid-peaks's lines only (a
    # requeued job's also SLURM's notes of the stop).
    [ "$(job_field "$job" Restarts)" != 0 ] || only_ours "${out%.out}.err" "job $job"
    [ "$(json_of "$out" ranks)" = "$ranks" ] \
        || fail "job $job did not report $ranks ranks: $(grep '^{' "$out" || echo 'no --json line')"
    [ "$(json_of "$out" nodes)" = "$on" ] \
        || fail "job $job did not report $on nodes: $(grep '^{' "$out" || echo 'no --json line')"
    same_results "$ref" "$h5" "$group" "${compare[@]}" || fail "job $job: results differ from the single-process run"
}

# --- 3 (--nodes N, after 2 below). a lost node -------------------------------------------------
# usid-peaks ranks on a host.
ranks_on() { host_pids "$1" "$bin"; }
# The job's launcher (srun or mpirun with the binary in its arguments) on node1, the batch host.
launcher_pid() {
    local p argv
    for p in $(ip netns pids usidc-node1 2>/dev/null); do
        mapfile -d '' -t argv 2>/dev/null <"/proc/$p/cmdline" || continue
        [ ${#argv[@]} -gt 0 ] && [[ ${argv[0]##*/} == "$1" && " ${argv[*]} " == *" $bin "* ]] && echo "$p"
    done
    return 0
}
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# What runs on a host (pid and executable), for a failure's message.
on_host() {
    local p
    for p in $(ip netns pids "usidc-$1" 2>/dev/null); do printf '%s=%s ' "$p" "$(readlink "/proc/$p/exe" 2>&1)"; done
}

# multi-node.sbatch with LAUNCHER (srun or mpirun), 2 nodes x 1 rank x 1 thread on a copy of
# lost.h5, --rank-timeout 5; after at least 3 batches checkpointed node2 is lost: HOW = cut (its
# link down) or stop (SIGSTOP to its ranks). Every usid-peaks process must be gone within the
# timeout + 10 s, the launcher and the batch script within the timeout + 15 s, the job FAILED
# with exit 7 and one line of ours naming node2, the file untouched; with the host back the same
# job again resumes and ends equal to one process.
lost_node() {
    local launcher=$1 how=$2 name=lost-$1-$2 rt=5 jid lpid victims p t0 s n=0 last='' before
    local ranks_gone='' launcher_gone='' job_gone='' line again resumed
    local params="--widths 2:60:300 --threads 1 --max-mem 1 --rank-timeout $rt" shape=(--nodes=2 --ntasks=2
        --ntasks-per-node=1 --cpus-per-task=1)
    before=$(sha256sum <"$work/lost.h5")
    jid=$(LAUNCHER=$launcher PARAMS=$params submit multi-node.sbatch "$name" lost "${shape[@]}")
    # At least three batches checkpointed: the size changed three times after the header.
    s=$((SECONDS + 60))
    while [ "$n" -lt 4 ] && [ "$SECONDS" -lt "$s" ]; do
        p=$(stat -c %s "$work/.$name.h5".usid-peaks-*.ckpt 2>/dev/null | head -n 1 || true)
        if [ -n "$p" ] && [ "$p" != "$last" ]; then n=$((n + 1)); last=$p; fi
        sleep 0.01
    done
    [ "$n" -ge 4 ] || fail "$name: job $jid: fewer than 3 batches checkpointed within 60 s ($(job_field "$jid" JobState))"
    # Found in the hosts' namespaces, a few tries (they may still be starting).
    for _ in $(seq 50); do
        victims=$(ranks_on node2)
        lpid=$(launcher_pid "$launcher")
        [ -z "$victims" ] || [ -z "$lpid" ] || break
        sleep 0.1
    done
    [ -n "$victims" ] || fail "$name: job $jid: no rank found on node2 in 5 s; its processes: $(on_host node2)"
    [ -n "$lpid" ] || fail "$name: job $jid: no $launcher found on node1 in 5 s; its processes: $(on_host node1)"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086 # one pid per word
    lose_host node2 "$how" $victims
    # When the last usid-peaks process ended, the launcher (srun is two processes), and the batch
    # script: the job leaves RUNNING (it stays COMPLETING until node2 answers again).
    s=$((SECONDS + rt + 30))
    while [ "$SECONDS" -lt "$s" ]; do
        p=$(date +%s.%N)
        [ -n "$ranks_gone" ] || [ -n "$(ranks_on node1)$(ranks_on node2)" ] || ranks_gone=$(since "$p" "$t0")
        # shellcheck disable=SC2086 # one or more pids
        [ -n "$launcher_gone" ] || kill -0 $lpid 2>/dev/null || launcher_gone=$(since "$p" "$t0")
        [ -n "$job_gone" ] || [ "$(job_field "$jid" JobState)" = RUNNING ] || job_gone=$(since "$p" "$t0")
        [ -z "$ranks_gone" ] || [ -z "$launcher_gone" ] || [ -z "$job_gone" ] || break
        sleep 0.05
    done
    # The host back, whatever happened: the stopped ranks continue (into their own timeout).
    # shellcheck disable=SC2086 # one pid per word
    lose_host node2 back $victims
    if [ -z "$ranks_gone" ] || [ -z "$launcher_gone" ] || [ -z "$job_gone" ]; then
        fail "$name: job $jid: usid-peaks ended ${ranks_gone:-never}, $launcher ${launcher_gone:-never}, the batch script ${job_gone:-never} (s after the fault, watched $((rt + 30)) s)"
    fi
    # The launcher and the batch script may take the template's grace (5 s) more: 14.3-15.0 s
    # measured for srun (its helper process included) on a busy 2-core machine.
    for p in "$ranks_gone 10" "$launcher_gone 15" "$job_gone 15"; do
        awk -v s="${p% *}" -v t="$rt" -v m="${p#* }" 'BEGIN { exit !(s <= t + m) }' \
            || fail "$name: job $jid: usid-peaks ended $ranks_gone s (limit $rt + 10), $launcher $launcher_gone s and the batch script $job_gone s (limit $rt + 15) after the fault"
    done
    # Over once node2 answers again. slurmctld marks a node that answers nothing DOWN only after
    # SlurmdTimeout (300 s by default; not reached here), and ReturnToService=2 takes it back
    # when its slurmd registers again; resumed here should it have come to that.
    cluster wait 30 || fail "$name: node2 not back 30 s after its link came up"
    case $(sinfo -h -n node2 -o %T) in down* | drain*) scontrol update nodename=node2 state=resume ;; esac
    wait_job "$jid"
    [ "$job_state $(job_field "$jid" ExitCode)" = "FAILED 7:0" ] \
        || fail "$name: job $jid ended $job_state, exit $(job_field "$jid" ExitCode), not FAILED 7:0"
    line=$(grep '^usid-peaks: error' "$work/$name-$jid.err" || true)
    [ "$(printf '%s\n' "$line" | grep -c .)" -eq 1 ] || fail "$name: job $jid: not one error line: $line"
    [[ $line == *" on node2 sent nothing for "* ]] || fail "$name: job $jid: the line does not name node2: $line"
    [ "$(sha256sum <"$work/$name.h5")" = "$before" ] || fail "$name: job $jid changed the file"
    again=$(LAUNCHER=$launcher PARAMS=$params submit multi-node.sbatch "$name" "$name" "${shape[@]}")
    check_job "$again" "$work/$name-$again.out" "$work/$name.h5" 2 "$work/lost-reference.h5" 2
    resumed=$(json_of "$work/$name-$again.out" resumed)
    [ "${resumed:-0}" -gt 0 ] || fail "$name: job $again did not resume from the checkpoint (resumed=$resumed)"
    say "ok: lost node, $launcher: node2's $([ "$how" = cut ] && echo 'link cut' || echo 'ranks stopped') -> usid-peaks gone in $ranks_gone s, $launcher in $launcher_gone s, the batch script in $job_gone s (--rank-timeout $rt), FAILED 7:0, one line naming node2, file untouched; rerun resumed $resumed of $((192 * 192)) pixels, equal"
}

# --- 2 (--nodes N). multi-node.sbatch across the hosts, with srun and with mpirun ----------------
if [ "$nodes" -gt 1 ]; then
    make_map map 64 64 7
    ref=$work/map-reference.h5
    # The template's --exclusive makes SLURM run the two jobs one after the other.
    across_srun=$(submit multi-node.sbatch across-srun map --nodes="$nodes" --ntasks="$nodes" \
        --ntasks-per-node=1 --cpus-per-task=2)
    across_mpirun=$(LAUNCHER=mpirun submit multi-node.sbatch across-mpirun map --nodes="$nodes" \
        --ntasks=$((2 * nodes)) --ntasks-per-node=2 --cpus-per-task=1)
    check_job "$across_srun" "$work/across-srun-$across_srun.out" "$work/across-srun.h5" "$nodes" \
        "$ref" "$nodes"
    check_job "$across_mpirun" "$work/across-mpirun-$across_mpirun.out" "$work/across-mpirun.h5" \
        $((2 * nodes)) "$ref" "$nodes"
    say "ok: $nodes hosts: srun --mpi=pmix ranks on every host; multi-node.sbatch --nodes=$nodes with srun ($nodes x 1 rank x 2 threads) and mpirun ($nodes x 2 ranks x 1 thread): equal to a single process, nodes=$nodes"
    # node2 lost mid-run: 192 x 192 with 1 thread and --max-mem 1 makes many short batches, as in
    # scripts/test-cluster.sh, and the slow widths of the requeue check below make them last (the
    # default widths finish the map in about a second, before a cut after 3 batches can land).
    # TEST_SLURM_LOST: which cases.
    make_map lost 192 192 11 --widths 2:60:300
    for c in ${TEST_SLURM_LOST:-srun:cut}; do lost_node "${c%:*}" "${c#*:}"; done
    say "ok: --nodes $nodes (${SECONDS} s without installs and build)"
    exit 0
fi

# --- 2. every template, submitted together; SLURM runs them as the node's 2 CPUs allow ----------
make_map map 32 32 7
ref=$work/map-reference.h5
single=$(submit single-node.sbatch single map)
mpirun_job=$(LAUNCHER=mpirun submit single-node.sbatch mpirun map)
# The multi-node template on our one node: its ranks-per-node x threads path, 2 x 1.
multi=$(submit multi-node.sbatch multi map --ntasks-per-node=2)
# Two files, one rank each: both array tasks fit the node at once.
cp "$work/map.h5" "$work/array-1.h5"
cp "$work/map.h5" "$work/array-2.h5"
printf '%s\n' array-1.h5 array-2.h5 >"$work/files.txt"
array=$(FILES=files.txt USID_PEAKS=$bin sbatch --parsable --array=1-2 --ntasks=1 --cpus-per-task=1 \
    --time=10 --chdir="$work" --output="$work/array-%A_%a.out" --error="$work/array-%A_%a.err" \
    "$repo/slurm/array.sbatch")

check_job "$single" "$work/single-$single.out" "$work/single.h5" 2 "$ref"
check_job "$mpirun_job" "$work/mpirun-$mpirun_job.out" "$work/mpirun.h5" 2 "$ref"
check_job "$multi" "$work/multi-$multi.out" "$work/multi.h5" 2 "$ref"
for t in 1 2; do
    check_job "${array}_$t" "$work/array-${array}_$t.out" "$work/array-$t.h5" 1 "$ref"
done
# The SHO fit through the same template (COMMAND=sho): its Guess and Fit equal one process's.
reference_run map sho
sho=$(COMMAND=sho submit single-node.sbatch sho map)
(
    group=$run_group compare=(Guess Fit completed_guess_positions completed_fit_positions)
    check_job "$sho" "$work/sho-$sho.out" "$work/sho.h5" 2 "$work/map-sho-reference.h5"
)
summary="single-node (srun, mpirun), multi-node, array (2 files), single-node sho: equal to a single process"

# --- 3. requeue: TERM mid-run, the job requeues itself and resumes -------------------------------
if [ "$no_requeue" -eq 0 ]; then
    # Long enough to last a few seconds on 2 ranks: ten times the seed's number of widths (the
    # kernel does the 192 x 192 map in under a second with the seed's, less than TERM takes to
    # reach the ranks through scancel), starting at 2 so that the wavelets differ in length and
    # the bank cannot be low-rank (20:60:300 is 13 basis wavelets, hardly slower than the seed);
    # --max-mem 1 cuts it into many small batches, so the checkpoint grows while it runs.
    slow=(--widths 2:60:300)
    make_map big 192 192 8 "${slow[@]}"
    for launcher in "${requeue_launchers[@]}"; do
        name=requeue-$launcher
        jid=$(LAUNCHER=$launcher PARAMS="--max-mem 1 ${slow[*]}" submit requeue.sbatch "$name" big)
        # What --signal=B:TERM@N does N s before the time limit, but now: TERM to the batch shell
        # once the run has checkpointed a batch (the checkpoint grew past its first size).
        ckpt_size() { stat -c %s "$work/.$name.h5".usid-peaks-*.ckpt 2>/dev/null | head -n 1; }
        ckpt_exists() { [ -n "$(ckpt_size)" ]; }
        wait_for "requeue job $jid's checkpoint" 60 ckpt_exists
        first=$(ckpt_size)
        ckpt_grew() { [ "$(ckpt_size)" -gt "$first" ] 2>/dev/null; }
        wait_for "requeue job $jid's first batch" 60 ckpt_grew
        scancel --signal=TERM --batch "$jid"
        check_job "$jid" "$work/$name-$jid.out" "$work/$name.h5" 2 "$work/big-reference.h5"
        restarts=$(job_field "$jid" Restarts)
        [ "${restarts:-0}" -ge 1 ] || fail "requeue job $jid was not requeued (Restarts=$restarts)"
        resumed=$(json_of "$work/$name-$jid.out" resumed)
        [ "${resumed:-0}" -gt 0 ] \
            || fail "requeue job $jid's second run did not resume from the checkpoint (resumed=$resumed)"
        summary+="; requeue ($launcher): TERM -> requeued -> resumed $resumed of $((192 * 192)) pixels -> equal"
    done
fi

say "ok: $summary (2 ranks; ${SECONDS} s without installs and build)"
