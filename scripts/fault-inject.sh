#!/usr/bin/env bash
# Kill `usid-peaks find` with SIGKILL at random moments and check that nothing is lost or damaged.
#
#   scripts/fault-inject.sh [--trials N] [--mode single|mpi|both] [--target in-place|output|both]
#                           [--rank-kills N] [--rows R] [--cols C] [--seed S] [--keep]
#
# Each trial copies a synthetic map, starts `usid-peaks find` on it (one process, or
# `mpirun -np 2`), in place or with `--output` (with --target both, alternately), and SIGKILLs
# every process of the run (mpirun and its ranks) after a random delay: two trials in three at a
# moment drawn uniformly from start-up to 15% past a clean run's length, one in three while the
# results are written (in place: right after the staging copy appears, plus a random part of a
# clean run's final write; with --output, whose results are streamed into the staging copy from
# the first batch on: a random moment in the first 60% of a clean run after that copy appears).
# Every other output trial writes into an existing results file (a group of other parameters),
# the others into none.
# Then:
#   - the Raw_Data dataset still has the original bytes (SHA-256 of what h5py reads), so the file
#     opens with h5py, and no results group in it is incomplete; with --output, the map is
#     byte-identical and the output file is as it was (absent, or byte-identical) or complete;
#   - the same command run again exits 0 and its results group equals a clean run's (Peak_Indices
#     SHA-256), with no staging copy or checkpoint left behind.
# --rank-kills N more trials SIGKILL one rank (rank 1 in two trials, then rank 0 in two, ...) of
# a running `mpirun -np 2` job, in place or with --output as --target says (with both, one and the
# other in turn), and measure how long the job takes to exit, its exit status, and whether any process of
# it outlives it; then the same checks and rerun.
#
# Prints one line per trial and a summary; exits 0 only if every trial survived. The binary is
# target/release/usid-peaks (USID_PEAKS overrides); it is copied first so a rebuild during the
# trials cannot change it. Needs .venv (scripts/bootstrap.sh --tests) and, for mpi, mpirun.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

trials=50 mode=both target=both rank_kills=10 rows=200 cols=200 seed=$$ keep=0
options "trials mode target rank-kills rows cols seed" "keep" "$@"
case "$mode" in single|mpi|both) ;; *) say "--mode single|mpi|both"; exit 2 ;; esac
case "$target" in in-place|output|both) ;; *) say "--target in-place|output|both"; exit 2 ;; esac

py=$repo/.venv/bin/python
[ -x "$py" ] || { say "$py missing: run scripts/bootstrap.sh --tests"; exit 2; }
src_bin=${USID_PEAKS:-$repo/target/release/usid-peaks}
[ -x "$src_bin" ] || { say "$src_bin missing: cargo build --release"; exit 2; }
# Without ps no process of a run is found, nothing is killed and every trial "survives".
need ps "install procps (scripts/bootstrap.sh --tests)"
need bc "install bc (scripts/bootstrap.sh --tests)"
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
check() { "$py" "$repo/tests/reference/fault_check.py" "$1" "$((rows * cols))"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
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
orig_sum=$(sha "$orig")
# An existing results file for output trials to add to: a group of other parameters, so the
# trial's run neither reuses it nor may damage it.
prior=$work/prior.h5
"$bin" find -q --max-mem 64 --min-snr 2 "$orig" --output "$prior" >/dev/null
prior_sum=$(sha "$prior")
declare -A clean_s write_s
cmd_for() { # mode file [output] -> the command line, in $cmd
    # --max-mem 8: batches of ~1,400 spectra, so most kills fall between checkpoint records.
    cmd=("$bin" find -q --json --max-mem 8 "$2" ${3:+--output "$3"})
    if [ "$1" = mpi ]; then cmd=("${mpirun[@]}" "${cmd[@]}"); fi
}
wanted() { [ "$1" = "$2" ] || [ "$1" = both ]; } # option value, one of its kinds
clean_run() { # mode target: times two clean runs, checks the second's results
    local m=$1 t=$2 file=$work/clean.h5 out='' summary
    [ "$t" = in-place ] || out=$work/clean-out.h5
    # Twice: the second run, with the file in the page cache, is what the trials meet.
    for _ in 1 2; do
        rm -f "$file" "$work"/.clean*.h5.* "$work/clean-out.h5"
        cp "$orig" "$file"
        cmd_for "$m" "$file" "$out"
        t0=$(now)
        summary=$("${cmd[@]}")
        clean_s[$m/$t]=$(echo "$(now) - $t0" | bc -l)
        write_s[$m/$t]=$(json_field "$summary" seconds_write)
    done
    peaks=$(field peaks "$(check "${out:-$file}")")
    if [ -z "$ref_peaks" ]; then ref_peaks=$peaks; fi
    [ "$peaks" = "$ref_peaks" ] || { say "clean $m $t run differs from the first clean run"; exit 1; }
    rm -f "$file" "$work"/.clean*.h5.* "$work/clean-out.h5"
    say "$(printf 'clean %s %s run: %.2f s (seconds_write %.3f s), %s x %s pixels' "$m" "$t" "${clean_s[$m/$t]}" "${write_s[$m/$t]}" "$rows" "$cols")"
}
ref_peaks=
for m in single mpi; do
    for t in in-place output; do
        # The rank-kill trials run with mpi whatever --mode says.
        if wanted "$target" "$t" && { wanted "$mode" "$m" || { [ "$m" = mpi ] && [ "$rank_kills" != 0 ]; }; }
        then clean_run "$m" "$t"; fi
    done
done

# The source as it must be: with --output ($2 set) byte-identical, else Raw_Data intact and no
# incomplete group. Prints what is wrong, nothing if all is well.
source_fault() { # file [output]
    local state
    if [ -n "${2:-}" ]; then
        [ "$(sha "$1")" = "$orig_sum" ] || echo "source changed"
        return
    fi
    state=$(check "$1")
    if [ "$(field raw "$state")" != "$raw0" ]; then echo "source changed or unreadable ($(field raw "$state"))"
    elif [ "$(field incomplete "$state")" != 0 ]; then echo "incomplete results group"; fi
    return 0
}
# An output file after a kill: as it was before the run (absent, or the existing file's bytes),
# or complete with a clean run's results (the kill came after the rename). Prints what is wrong.
output_fault() { # output had_prior
    local state
    if [ ! -e "$1" ]; then
        [ "$2" = 0 ] || echo "existing output file lost"
        return
    fi
    [ "$2" = 0 ] || [ "$(sha "$1")" != "$prior_sum" ] || return 0
    state=$(check "$1")
    if [ "$(field incomplete "$state")" != 0 ]; then echo "incomplete results group in the output"
    elif [ "$(field peaks "$state")" != "$ref_peaks" ]; then echo "output changed but not a clean run's"; fi
    return 0
}

# After a trial: the source intact and the output (if any) as it was or complete; then the rerun
# completes like a clean run. Sets $verdict ("ok" or what failed) and $rerun_note.
verify_and_rerun() { # mode file [output had_prior]
    local m=$1 file=$2 out=${3:-} had=${4:-0} state
    verdict=ok
    rerun_note=
    verdict=$(source_fault "$file" "$out")
    [ -n "$verdict" ] || [ -z "$out" ] || verdict=$(output_fault "$out" "$had")
    if [ -n "$verdict" ]; then return; fi
    verdict=ok
    cmd_for "$m" "$file" "$out"
    local summary rc=0
    summary=$("${cmd[@]}" 2>"$work/rerun.err") || rc=$?
    if [ "$rc" != 0 ]; then verdict="rerun exit $rc: $(head -c 300 "$work/rerun.err")"; return; fi
    if [ "$(json_field "$summary" reused)" = true ]; then rerun_note=reused
    elif [ "$(json_field "$summary" resumed)" != 0 ]; then rerun_note="resumed $(json_field "$summary" resumed)"
    else rerun_note=fresh; fi
    if [ -n "$(source_fault "$file" "$out")" ]; then verdict="source changed by the rerun"; return; fi
    state=$(check "${out:-$file}")
    if [ "$(field peaks "$state")" != "$ref_peaks" ]; then verdict="results differ from a clean run"; return; fi
    if [ "$(field incomplete "$state")" != 0 ]; then verdict="incomplete results group after rerun"; return; fi
    # One group more than before the trial: the existing file's groups are kept.
    if [ -n "$out" ] && [ "$(field groups "$state")" != $((had + 1)) ]; then
        verdict="output has $(field groups "$state") groups, not $((had + 1))"; return
    fi
    local left
    left=$(compgen -G "$(dirname "$file")/.*usid-peaks-staging" || compgen -G "$(dirname "$file")/.*.ckpt" || true)
    if [ -n "$left" ]; then verdict="left behind: $left"; fi
}

declare -A n_run n_ok phases reruns
failures=0
# The kill's aim and delay for trial $1 of kind $2 ($3 the target): sets $aim and $delay_ms.
aim_kill() {
    local i=$1 k=$2 t=$3 clean_ms write_ms
    clean_ms=$(printf '%.0f' "$(echo "${clean_s[$k]} * 1150" | bc -l)")
    write_ms=$(printf '%.0f' "$(echo "${write_s[$k]} * 1000 + 1" | bc -l)")
    aim="any"
    delay_ms=$(rand "$clean_ms")
    [ $((i % 3)) = 2 ] || return 0
    aim="write"
    # In place the staging copy appears as the final write starts and the rename ends it, about
    # write_ms later, less the time this script takes to notice and to sleep. With --output it
    # appears before the first batch and grows with every batch until the rename at the end: a
    # random moment in the first 60 % of a clean run after it appears mostly falls before the end.
    if [ "$t" = in-place ]; then delay_ms=$(rand $((write_ms * 6 / 10 + 1)))
    else delay_ms=$(rand $((clean_ms * 6 / 10 + 1))); fi
}
kill_trial() { # mode index
    local m=$1 i=$2 t=in-place dir file out='' had=0 staging delay_ms aim phase rc
    if [ "$target" = output ] || { [ "$target" = both ] && [ $((i % 2)) = 1 ]; }; then t=output; fi
    dir=$work/t; rm -rf "$dir"; mkdir "$dir"
    file=$dir/map.h5; staging=$dir/.map.h5.usid-peaks-staging
    cp "$orig" "$file"
    if [ "$t" = output ]; then
        out=$dir/out.h5; staging=$dir/.out.h5.usid-peaks-staging
        # Every other output trial adds to an existing results file.
        had=$((i % 2))
        if [ "$target" = both ]; then had=$((i / 2 % 2)); fi
        [ "$had" = 0 ] || cp "$prior" "$out"
    fi
    cmd_for "$m" "$file" "$out"
    aim_kill "$i" "$m/$t" "$t"
    start "${cmd[@]}"
    if [ "$aim" = write ]; then
        while [ ! -e "$staging" ] && kill -0 "$run_pid" 2>/dev/null; do sleep 0.002; done
    fi
    sleep "$(echo "$delay_ms / 1000" | bc -l)"
    if kill -0 "$run_pid" 2>/dev/null; then
        # What the run was doing, judged from its files at the moment of the kill.
        # With --output the staging copy is where the batches are being streamed.
        if [ -e "$staging" ] && [ "$t" = output ]; then phase=streaming
        elif [ -e "$staging" ]; then phase=writing
        elif has_checkpoint "$dir"; then phase=computing
        else phase=starting; fi
        kill_session
        rc=0; wait "$run_pid" || rc=$?
        [ "$(field groups "$(check "${out:-$file}")")" = "$had" ] || phase=after-rename
    else
        rc=0; wait "$run_pid" || rc=$?
        phase=finished
        [ "$rc" = 0 ] || { phase="failed($rc)"; }
    fi
    verify_and_rerun "$m" "$file" "$out" "$had"
    record "$m/$t"
    say "$(printf '%s %s trial %d: kill at %s+%d ms (%s), rerun %s: %s' "$m" "$t" "$i" "$aim" "$delay_ms" "$phase" "${rerun_note:--}" "$verdict")"
}
record() { # kind: counts the trial just verified
    n_run[$1]=$(( ${n_run[$1]:-0} + 1 ))
    phases[$1]="${phases[$1]:-} $phase"
    reruns[$1]="${reruns[$1]:-} ${rerun_note%% *}"
    if [ "$verdict" = ok ]; then n_ok[$1]=$(( ${n_ok[$1]:-0} + 1 )); else failures=$((failures + 1)); fi
}

tally() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2}'; }

for m in single mpi; do
    wanted "$mode" "$m" || continue
    for ((i = 0; i < trials; i++)); do kill_trial "$m" "$i"; done
done

# ---- one rank dies ----
exit_times=()
rank_ok=0 orphans=0
for ((i = 0; i < rank_kills; i++)); do
    victim=$(( (i / 2 + 1) % 2 ))
    t=in-place out=''
    if [ "$target" = output ] || { [ "$target" = both ] && [ $((i % 2)) = 1 ]; }; then t=output; fi
    dir=$work/t; rm -rf "$dir"; mkdir "$dir"
    file=$dir/map.h5
    cp "$orig" "$file"
    [ "$t" = in-place ] || out=$dir/out.h5
    cmd_for mpi "$file" "$out"
    start "${cmd[@]}"
    # Wait until the job computes (its checkpoint exists), then a random part of a clean run.
    while ! has_checkpoint "$dir" && kill -0 "$run_pid" 2>/dev/null; do sleep 0.002; done
    sleep "$(echo "$(rand "$(printf '%.0f' "$(echo "${clean_s[mpi/$t]} * 500" | bc -l)")") / 1000" | bc -l)"
    pid=$(rank_pid "$victim")
    if [ -z "$pid" ]; then
        rc=0; wait "$run_pid" || rc=$?
        say "rank-kill trial $i ($t): the job ended (exit $rc) before rank $victim could be killed; not counted"
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
    verify_and_rerun mpi "$file" "$out"
    ok=$verdict
    if [ "$rc" = 0 ]; then ok="the job exited 0 although rank $victim died"; fi
    if [ -n "$left" ]; then ok="processes outlived the job: $left"; fi
    if [ "$ok" = ok ]; then rank_ok=$((rank_ok + 1)); else failures=$((failures + 1)); fi
    say "$(printf 'rank-kill trial %d (%s): rank %d killed, job exit %d after %.2f s, rerun %s: %s' "$i" "$t" "$victim" "$rc" "$dt" "${rerun_note:--}" "$ok")"
done

# ---- summary ----
say "summary (seed $seed, map ${rows}x${cols}):"
for k in single/in-place single/output mpi/in-place mpi/output; do
    [ -n "${n_run[$k]:-}" ] || continue
    say "  $k: ${n_ok[$k]:-0}/${n_run[$k]} survived; killed while:$(tally "${phases[$k]}" | sed 's/^/ /'); reruns: $(tally "${reruns[$k]}")"
done
if [ "${#exit_times[@]}" -gt 0 ]; then
    stats=$(printf '%s\n' "${exit_times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "min %.2f s, median %.2f s, max %.2f s", a[1], a[int((NR+1)/2)], a[NR]}')
    say "  one rank killed: $rank_ok/${#exit_times[@]} survived; job exit after $stats; jobs with processes left over: $orphans"
fi
[ "$failures" = 0 ]
