#!/usr/bin/env bash
# Kill `usid-peaks find` with SIGKILL at random moments and check that nothing is lost or damaged.
#
#   scripts/fault-inject.sh [--trials N] [--mode single|mpi|both] [--rank-kills N]
#                           [--rows R] [--cols C] [--seed S] [--keep]
#
# Each trial copies a synthetic map, starts `usid-peaks find` on it (one process, or
# `mpirun -np 2`), and SIGKILLs every process of the run (mpirun and its ranks) after a random
# delay: two trials in three at a moment drawn uniformly from start-up to 15% past a clean run's
# length, one in three during the final write (right after the staging copy appears, plus a random
# part of a clean run's write time). Then:
#   - the Raw_Data dataset still has the original bytes (SHA-256 of what h5py reads), so the file
#     opens with h5py, and no results group in it is incomplete;
#   - the same command run again exits 0 and its results group equals a clean run's (Peak_Indices
#     SHA-256), with no staging copy or checkpoint left behind.
# --rank-kills N more trials SIGKILL one rank (alternately rank 1 and rank 0) of a running
# `mpirun -np 2` job and measure how long the job takes to exit, its exit status, and whether any
# process of it outlives it; then the same checks and rerun.
#
# Prints one line per trial and a summary; exits 0 only if every trial survived. The binary is
# target/release/usid-peaks (USID_PEAKS overrides); it is copied first so a rebuild during the
# trials cannot change it. Needs .venv (scripts/bootstrap.sh --tests) and, for mpi, mpirun.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

trials=50 mode=both rank_kills=10 rows=200 cols=200 seed=$$ keep=0
options "trials mode rank-kills rows cols seed" "keep" "$@"
case "$mode" in single|mpi|both) ;; *) say "--mode single|mpi|both"; exit 2 ;; esac

py=$repo/.venv/bin/python
[ -x "$py" ] || { say "$py missing: run scripts/bootstrap.sh --tests"; exit 2; }
src_bin=${USID_PEAKS:-$repo/target/release/usid-peaks}
[ -x "$src_bin" ] || { say "$src_bin missing: cargo build --release"; exit 2; }
if [ "$mode" != single ] || [ "$rank_kills" -gt 0 ]; then
    command -v mpirun >/dev/null || { say "mpirun not found"; exit 2; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fault-inject.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "fault-inject: kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
bin=$work/usid-peaks
cp "$src_bin" "$bin"
"$bin" --version | grep -q '^usid-peaks ' || { say "$src_bin does not run: rebuild it"; exit 2; }
RANDOM=$seed
mpirun_cmd
mpirun=("${MPIRUN_LINE[@]}" -np 2)

now() { date +%s.%N; }
# Uniform random integer in [0, $1).
rand() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }
check() { "$py" "$repo/tests/reference/fault_check.py" "$1"; }
has_checkpoint() { compgen -G "$1/.*.ckpt" >/dev/null; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# Start "$@" in a session of its own (so mpirun and every rank can be found and killed, even the
# ranks OpenMPI puts in process groups of their own); sets $run_pid (setsid -w, which exits with
# the command's status) and waits until $run_sid is known.
start() {
    setsid -w "$@" >"$work/out" 2>"$work/err" &
    run_pid=$!
    run_sid=
    local own
    while [ -z "$run_sid" ] && kill -0 "$run_pid" 2>/dev/null; do
        # setsid forks only when it must (when it leads a process group): then the session is its
        # child's, else its own once it has called setsid() and exec'd the command.
        own=$(ps -o sid= -p "$run_pid" | tr -d ' ' || true)
        if [ "$own" = "$run_pid" ]; then
            run_sid=$own
        else
            run_sid=$(ps -o sid= --ppid "$run_pid" | tr -d ' ' | head -1 || true)
        fi
        [ -n "$run_sid" ] || sleep 0.001
    done
}
# The live processes of the run's session (zombies, waiting for a parent to reap them, are dead).
session_pids() {
    [ -n "$run_sid" ] || return 0
    ps -o pid=,stat= -s "$run_sid" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }' || true
}
kill_session() {
    local pids
    pids=$(session_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
}
# The pid of rank $1 of the running job.
rank_pid() {
    local p
    for p in $(session_pids); do
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
            echo "$p"
            return
        fi
    done
}

# ---- the map and a clean run of each kind ----
orig=$work/orig.h5
"$bin" generate "$orig" --rows "$rows" --cols "$cols" 2>/dev/null
raw0=$(field raw "$(check "$orig")")
declare -A clean_s write_s
cmd_for() { # mode file -> the command line, in $cmd
    # --max-mem 8: batches of ~1,400 spectra, so most kills fall between checkpoint records.
    if [ "$1" = mpi ]; then cmd=("${mpirun[@]}" "$bin" find -q --json --max-mem 8 "$2")
    else cmd=("$bin" find -q --json --max-mem 8 "$2"); fi
}
ref_peaks=
for m in single mpi; do
    if [ "$mode" != both ] && [ "$mode" != "$m" ] && { [ "$m" = single ] || [ "$rank_kills" = 0 ]; }; then continue; fi
    # Twice: the second run, with the file in the page cache, is what the trials meet.
    for _ in 1 2; do
        rm -f "$work/clean.h5" "$work"/.clean.h5.*
        cp "$orig" "$work/clean.h5"
        cmd_for "$m" "$work/clean.h5"
        t0=$(now)
        summary=$("${cmd[@]}")
        clean_s[$m]=$(echo "$(now) - $t0" | bc -l)
        write_s[$m]=$(json_field "$summary" seconds_write)
    done
    peaks=$(field peaks "$(check "$work/clean.h5")")
    if [ -z "$ref_peaks" ]; then ref_peaks=$peaks; fi
    [ "$peaks" = "$ref_peaks" ] || { say "clean $m run differs from the clean single run"; exit 1; }
    rm -f "$work/clean.h5" "$work"/.clean.h5.*
    say "$(printf 'clean %s run: %.2f s (final write %.3f s), %s x %s pixels' "$m" "${clean_s[$m]}" "${write_s[$m]}" "$rows" "$cols")"
done

# After a trial: the source intact, no incomplete group; then the rerun completes like a clean run.
# Sets $verdict ("ok" or what failed) and $rerun_note.
verify_and_rerun() {
    local m=$1 file=$2 state
    state=$(check "$file")
    verdict=ok
    rerun_note=
    if [ "$(field raw "$state")" != "$raw0" ]; then verdict="source changed or unreadable ($(field raw "$state"))"; return; fi
    if [ "$(field incomplete "$state")" != 0 ]; then verdict="incomplete results group"; return; fi
    cmd_for "$m" "$file"
    local out rc=0
    out=$("${cmd[@]}" 2>"$work/rerun.err") || rc=$?
    if [ "$rc" != 0 ]; then verdict="rerun exit $rc: $(head -c 300 "$work/rerun.err")"; return; fi
    if [ "$(json_field "$out" reused)" = true ]; then rerun_note=reused
    elif [ "$(json_field "$out" resumed)" != 0 ]; then rerun_note="resumed $(json_field "$out" resumed)"
    else rerun_note=fresh; fi
    state=$(check "$file")
    if [ "$(field raw "$state")" != "$raw0" ]; then verdict="source changed by the rerun"; return; fi
    if [ "$(field peaks "$state")" != "$ref_peaks" ]; then verdict="results differ from a clean run"; return; fi
    if [ "$(field incomplete "$state")" != 0 ]; then verdict="incomplete results group after rerun"; return; fi
    local left
    left=$(compgen -G "$(dirname "$file")/.*usid-peaks-staging" || compgen -G "$(dirname "$file")/.*.ckpt" || true)
    if [ -n "$left" ]; then verdict="left behind: $left"; fi
}

declare -A n_run n_ok phases reruns
failures=0
kill_trial() { # mode index
    local m=$1 i=$2 dir file staging delay_ms phase rc
    dir=$work/t; rm -rf "$dir"; mkdir "$dir"
    file=$dir/map.h5; staging=$dir/.map.h5.usid-peaks-staging
    cp "$orig" "$file"
    cmd_for "$m" "$file"
    local clean_ms write_ms aim
    clean_ms=$(printf '%.0f' "$(echo "${clean_s[$m]} * 1150" | bc -l)")
    write_ms=$(printf '%.0f' "$(echo "${write_s[$m]} * 1000 + 1" | bc -l)")
    # The staging copy appears as the write starts; the rename ends it, about write_ms later, less
    # the time this script takes to notice and to sleep.
    if [ $((i % 3)) = 2 ]; then
        aim="write"
        delay_ms=$(rand $((write_ms * 6 / 10 + 1)))
    else
        aim="any"
        delay_ms=$(rand "$clean_ms")
    fi
    start "${cmd[@]}"
    if [ "$aim" = write ]; then
        while [ ! -e "$staging" ] && kill -0 "$run_pid" 2>/dev/null; do sleep 0.002; done
    fi
    sleep "$(echo "$delay_ms / 1000" | bc -l)"
    if kill -0 "$run_pid" 2>/dev/null; then
        # What the run was doing, judged from its files at the moment of the kill.
        if [ -e "$staging" ]; then phase=writing
        elif has_checkpoint "$dir"; then phase=computing
        else phase=starting; fi
        kill_session
        rc=0; wait "$run_pid" || rc=$?
        [ "$(field groups "$(check "$file")")" = 0 ] || phase=after-rename
    else
        rc=0; wait "$run_pid" || rc=$?
        phase=finished
        [ "$rc" = 0 ] || { phase="failed($rc)"; }
    fi
    verify_and_rerun "$m" "$file"
    n_run[$m]=$(( ${n_run[$m]:-0} + 1 ))
    phases[$m]="${phases[$m]:-} $phase"
    reruns[$m]="${reruns[$m]:-} ${rerun_note%% *}"
    if [ "$verdict" = ok ]; then n_ok[$m]=$(( ${n_ok[$m]:-0} + 1 )); else failures=$((failures + 1)); fi
    say "$(printf '%s trial %d: kill at %s+%d ms (%s), rerun %s: %s' "$m" "$i" "$aim" "$delay_ms" "$phase" "${rerun_note:--}" "$verdict")"
}

tally() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2}'; }

for m in single mpi; do
    if [ "$mode" != both ] && [ "$mode" != "$m" ]; then continue; fi
    for ((i = 0; i < trials; i++)); do kill_trial "$m" "$i"; done
done

# ---- one rank dies ----
exit_times=()
rank_ok=0 orphans=0
for ((i = 0; i < rank_kills; i++)); do
    victim=$(( (i + 1) % 2 ))
    dir=$work/t; rm -rf "$dir"; mkdir "$dir"
    file=$dir/map.h5
    cp "$orig" "$file"
    cmd_for mpi "$file"
    start "${cmd[@]}"
    # Wait until the job computes (its checkpoint exists), then a random part of a clean run.
    while ! has_checkpoint "$dir" && kill -0 "$run_pid" 2>/dev/null; do sleep 0.002; done
    sleep "$(echo "$(rand "$(printf '%.0f' "$(echo "${clean_s[mpi]} * 500" | bc -l)")") / 1000" | bc -l)"
    pid=$(rank_pid "$victim")
    if [ -z "$pid" ]; then
        rc=0; wait "$run_pid" || rc=$?
        say "rank-kill trial $i: the job ended (exit $rc) before rank $victim could be killed; not counted"
        continue
    fi
    t0=$(now)
    kill -9 "$pid"
    rc=0; wait "$run_pid" || rc=$?
    dt=$(echo "$(now) - $t0" | bc -l)
    sleep 0.5
    left=$(session_pids)
    if [ -n "$left" ]; then
        orphans=$((orphans + 1))
        # shellcheck disable=SC2086
        kill -9 $left 2>/dev/null || true
    fi
    exit_times+=("$dt")
    verify_and_rerun mpi "$file"
    ok=$verdict
    if [ "$rc" = 0 ]; then ok="the job exited 0 although rank $victim died"; fi
    if [ -n "$left" ]; then ok="processes outlived the job: $left"; fi
    if [ "$ok" = ok ]; then rank_ok=$((rank_ok + 1)); else failures=$((failures + 1)); fi
    say "$(printf 'rank-kill trial %d: rank %d killed, job exit %d after %.2f s, rerun %s: %s' "$i" "$victim" "$rc" "$dt" "${rerun_note:--}" "$ok")"
done

# ---- summary ----
say "summary (seed $seed, map ${rows}x${cols}):"
for m in single mpi; do
    [ -n "${n_run[$m]:-}" ] || continue
    say "  $m: ${n_ok[$m]:-0}/${n_run[$m]} survived; killed while:$(tally "${phases[$m]}" | sed 's/^/ /'); reruns: $(tally "${reruns[$m]}")"
done
if [ "${#exit_times[@]}" -gt 0 ]; then
    stats=$(printf '%s\n' "${exit_times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "min %.2f s, median %.2f s, max %.2f s", a[1], a[int((NR+1)/2)], a[NR]}')
    say "  one rank killed: $rank_ok/${#exit_times[@]} survived; job exit after $stats; jobs with processes left over: $orphans"
fi
[ "$failures" = 0 ]
