#!/usr/bin/env bash
# usid-peaks across hosts with OpenMPI, on the namespace test cluster of scripts/cluster.sh:
#   1. 2 hosts x 2 ranks and 3 hosts x 1 rank on a ROWS x COLS map: Peak_Indices, Peak_Count and
#      Peak_Frequencies identical (h5diff) to a single-process run; the --json line reports the
#      ranks, the hosts (`nodes`) and each host's default threads (its cores / its own ranks);
#   2. a dead rank: SIGKILL to a rank on node2 of a 2 x 2 run, in place on a copy of the map. The
#      job must end on every host within 5 s with a non-zero exit, the file must be byte for byte
#      what it was, and the same command again must resume from the checkpoint and end equal;
#   3. a silent host, twice (2 x 2, --rank-timeout 5, after at least 3 batches checkpointed):
#      node2's link cut, and every rank on node2 stopped (SIGSTOP). Every usid-peaks process and
#      mpirun must be gone within the timeout + 10 s, with exit 7 and one line of usid-peaks's, rank
#      0's, naming a rank on node2; the file untouched; the rerun (host back) resumes and ends
#      equal. (After a cut, mpirun outlives the ranks: cluster.sh ends it, see launch_watched in
#      lib.sh; the rerun waits until node2 and the head reach each other again, cluster.sh wait.)
# Prints one line per check; stops the cluster it made on every exit. Exit 0 ok, 1 failed, 77
# namespaces cannot be made here (not root, or the kernel refuses) -- a skip, not a pass.
#
# Usage: scripts/test-cluster.sh [--rows R] [--cols C] [--keep]
# Environment: USID_PEAKS the binary (default target/release/usid-peaks, built if missing).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rows=192 cols=192 keep=0
options "rows cols" "keep" "$@"

# Namespaces need root; a machine that cannot host the cluster skips the test (cluster.sh up says
# so too, for the other reasons: no iproute2, a kernel or container that refuses namespaces).
[ "$(id -u)" -eq 0 ] || { say "cannot make a test cluster here: not root"; exit 77; }

if [ -n "${USID_PEAKS:-}" ]; then
    src_bin=$USID_PEAKS
else
    [ -x "$repo/target/release/usid-peaks" ] || (cd "$repo" && cargo build --release --quiet) \
        || fail "cargo build --release failed"
    src_bin=$repo/target/release/usid-peaks
fi
need mpirun "scripts/bootstrap.sh installs OpenMPI"
# The hosts need iproute2 (ip, tc), which a minimal Debian/Ubuntu image lacks.
command -v ip >/dev/null 2>&1 || apt_install iproute2

# On the shared file system every host sees; a copy, so a rebuild meanwhile changes nothing.
work=$(mktemp -d "${TMPDIR:-/tmp}/test-cluster.XXXXXX")
made=0
cleanup() {
    local rc=$?
    set +e
    [ "$made" -eq 0 ] || cluster down 2>/dev/null
    if [ "$keep" -eq 1 ] || [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then say "kept $work"; else rm -rf "$work"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bin=$work/usid-peaks
cp "$src_bin" "$bin"
# One user of the namespace cluster at a time (scripts/test-slurm.sh --nodes takes the same lock).
exec 7>"${TMPDIR:-/tmp}/usid-peaks-test-cluster.lock"
flock -w 600 7 || fail "another test holds ${TMPDIR:-/tmp}/usid-peaks-test-cluster.lock"

up() {
    local rc=0
    made=1
    cluster up "$1" 7>&- || rc=$?
    [ "$rc" -eq 0 ] || exit "$rc" # 77: no namespaces here, reported by cluster.sh in one line
}

group=/Measurement_000/Channel_000/Raw_Data-Peak_Finding_000

"$bin" generate "$work/map.h5" --rows "$rows" --cols "$cols" --seed 11 >/dev/null 2>&1 \
    || fail "usid-peaks generate failed"
cp "$work/map.h5" "$work/reference.h5"
# Outside any launcher: no MPI or SLURM variables that would make it join a job.
env -i PATH="$PATH" HOME="${HOME:-/root}" "$bin" find "$work/reference.h5" -q >/dev/null \
    || fail "the single-process reference run failed"

# RANKS on HOSTS hosts; each host's default threads must be its cores / its ranks.
run_equal() {
    local hosts=$1 ranks=$2 name=${1}x$2 line threads
    up "$hosts"
    cp "$work/map.h5" "$work/$name.h5"
    line=$(cluster mpirun -np $((hosts * ranks)) -- "$bin" find "$work/$name.h5" -q --json 2>"$work/$name.err") \
        || fail "$hosts hosts x $ranks ranks: the run failed: $(tail -n 5 "$work/$name.err")"
    only_ours "$work/$name.err" "$hosts hosts x $ranks ranks"
    [ "$(json_field "$line" ranks)" = $((hosts * ranks)) ] || fail "$name: wrong ranks in $line"
    [ "$(json_field "$line" nodes)" = "$hosts" ] || fail "$name: not $hosts nodes in $line"
    threads=$(($(nproc) / ranks))
    [ "$threads" -ge 1 ] || threads=1
    [ "$(json_field "$line" threads)" = "$threads" ] \
        || fail "$name: default threads not $(nproc) cores / $ranks ranks = $threads: $line"
    same_results "$work/reference.h5" "$work/$name.h5" "$group" \
        || fail "$name: results differ from the single-process run"
    say "ok: $hosts hosts x $ranks ranks: nodes=$hosts, $threads thread(s) per rank, results identical to one process ($rows x $cols)"
}
run_equal 2 2
run_equal 3 1

# --- a dead rank ---------------------------------------------------------------------------------
up 2
cp "$work/map.h5" "$work/dead.h5"
before=$(sha256sum <"$work/dead.h5")
# --threads 1 --max-mem 1: many small batches, so the run lasts and checkpoints as it goes.
dead_cmd=(mpirun -np 4 -- "$bin" find "$work/dead.h5" -q --json --threads 1 --max-mem 1)
cluster "${dead_cmd[@]}" >"$work/dead.out" 2>"$work/dead.err" &
job=$!
# usid-peaks ranks on a host.
ranks_on() { host_pids "$1" "$bin"; }
ckpt_size() { stat -c %s "$work"/.dead.h5.usid-peaks-*.ckpt 2>/dev/null | head -n 1 || true; }
# Killed once the checkpoint holds a batch (it grew past its header), so the rerun has work to
# resume.
ckpt_over() { local s; s=$(ckpt_size); [ -n "$s" ] && [ "$s" -gt "$1" ]; }
wait_ckpt_over() {
    for _ in $(seq 400); do
        ckpt_over "$1" && return 0
        kill -0 "$job" 2>/dev/null || return 1
        sleep 0.025
    done
    return 1
}
wait_ckpt_over 0 || fail "dead-rank run: no checkpoint appeared: $(grep -v setpgid "$work/dead.err")"
wait_ckpt_over "$(ckpt_size)" || fail "dead-rank run: ended before its first batch was checkpointed"
victim=$(ranks_on node2 | sed -n 1p)
[ -n "$victim" ] || fail "dead-rank run: no rank found on node2"
t0=$(date +%s.%N)
kill -KILL "$victim"
# Every host: the job is over when mpirun has exited and no rank is left on any host.
gone=
for _ in $(seq 200); do
    if ! kill -0 "$job" 2>/dev/null && [ -z "$(ranks_on node1)$(ranks_on node2)" ]; then
        gone=$(date +%s.%N)
        break
    fi
    sleep 0.05
done
[ -n "$gone" ] || fail "dead-rank run: still running on some host 10 s after the kill"
rc=0
wait "$job" || rc=$?
secs=$(awk -v a="$gone" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
[ "$rc" -ne 0 ] || fail "dead-rank run exited 0 after losing a rank"
awk -v s="$secs" 'BEGIN { exit !(s <= 5) }' || fail "dead-rank run took $secs s to end on every host (> 5 s)"
[ "$(sha256sum <"$work/dead.h5")" = "$before" ] || fail "dead-rank run changed the file"
line=$(cluster "${dead_cmd[@]}" 2>"$work/resume.err") \
    || fail "the rerun after the dead rank failed: $(tail -n 3 "$work/resume.err")"
resumed=$(json_field "$line" resumed)
[ "${resumed:-0}" -gt 0 ] || fail "the rerun did not resume from the checkpoint: $line"
same_results "$work/reference.h5" "$work/dead.h5" "$group" || fail "the resumed run differs from one process"
say "$(printf 'ok: rank killed on node2 -> job ended on every host in %.2f s, exit %s, file untouched; rerun resumed %s of %s pixels, identical' \
    "$secs" "$rc" "$resumed" $((rows * cols)))"

# --- a silent host: link cut, ranks stopped ------------------------------------------------------
timeout_s=5
silent_host() {
    local how=$1 name=silent-$1 victims t0 gone='' ranks_gone='' launcher_gone='' rc=0 secs line resumed n=0 last='' s
    up 2
    cp "$work/map.h5" "$work/$name.h5"
    before=$(sha256sum <"$work/$name.h5")
    local cmd=(mpirun -np 4 -- "$bin" find "$work/$name.h5" -q --json --threads 1 --max-mem 1
        --rank-timeout "$timeout_s")
    cluster "${cmd[@]}" >"$work/$name.out" 2>"$work/$name.err" &
    job=$!
    # At least three batches checkpointed: the size changed three times after the header.
    for _ in $(seq 1000); do
        s=$(stat -c %s "$work"/."$name".h5.usid-peaks-*.ckpt 2>/dev/null | head -n 1 || true)
        if [ -n "$s" ] && [ "$s" != "$last" ]; then n=$((n + 1)); last=$s; fi
        [ "$n" -ge 4 ] && break
        kill -0 "$job" 2>/dev/null || break
        sleep 0.01
    done
    [ "$n" -ge 4 ] || fail "$name: fewer than 3 batches checkpointed before the run ended"
    victims=$(ranks_on node2)
    [ -n "$victims" ] || fail "$name: no rank found on node2"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086 # one pid per word
    lose_host node2 "$how" $victims
    # When the last usid-peaks process ended, and when the launcher did.
    for _ in $(seq $(((timeout_s + 30) * 20))); do
        s=$(date +%s.%N)
        [ -n "$ranks_gone" ] || [ -n "$(ranks_on node1)$(ranks_on node2)" ] || ranks_gone=$s
        [ -n "$launcher_gone" ] || kill -0 "$job" 2>/dev/null || launcher_gone=$s
        if [ -n "$ranks_gone" ] && [ -n "$launcher_gone" ]; then
            gone=$s
            break
        fi
        sleep 0.05
    done
    # The host back, whatever happened: the stopped ranks continue (into their own timeout).
    # shellcheck disable=SC2086 # one pid per word
    lose_host node2 back $victims
    [ -n "$gone" ] || fail "$name: still running $((timeout_s + 30)) s after the fault: $(grep -v setpgid "$work/$name.err" | tail -n 3)"
    wait "$job" || rc=$?
    secs=$(awk -v a="$gone" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
    ranks_gone=$(awk -v a="$ranks_gone" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
    launcher_gone=$(awk -v a="$launcher_gone" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
    [ "$rc" -eq 7 ] || fail "$name: exit $rc, not 7: $(grep -v setpgid "$work/$name.err" | tail -n 5)"
    line=$(grep '^usid-peaks: error' "$work/$name.err" || true)
    [ "$(printf '%s\n' "$line" | grep -c .)" -eq 1 ] || fail "$name: not one error line: $line"
    [[ $line == *" on node2 sent nothing for "* ]] || fail "$name: the line does not name node2: $line"
    awk -v s="$secs" -v t="$timeout_s" 'BEGIN { exit !(s <= t + 10) }' \
        || fail "$name: took $secs s to end on every host (> $timeout_s + 10 s)"
    [ "$(sha256sum <"$work/$name.h5")" = "$before" ] || fail "$name: the run changed the file"
    # The rerun once the host is back: a link brought up again carries traffic seconds later.
    cluster wait 30 || fail "$name: node2 not back 30 s after its link came up"
    line=$(cluster "${cmd[@]}" 2>"$work/$name.resume.err") \
        || fail "$name: the rerun failed: $(tail -n 3 "$work/$name.resume.err")"
    resumed=$(json_field "$line" resumed)
    [ "${resumed:-0}" -gt 0 ] || fail "$name: the rerun did not resume from the checkpoint: $line"
    same_results "$work/reference.h5" "$work/$name.h5" "$group" || fail "$name: the resumed run differs from one process"
    say "$(printf 'ok: %s on node2 -> every usid-peaks process gone in %s s, mpirun in %s s (--rank-timeout %s), exit 7, one line naming node2, file untouched; rerun resumed %s of %s pixels, identical' \
        "$([ "$how" = cut ] && echo 'link cut' || echo 'ranks stopped')" "$ranks_gone" "$launcher_gone" "$timeout_s" "$resumed" $((rows * cols)))"
}
silent_host cut
silent_host stop
