#!/usr/bin/env bash
# The test command:  bash eng/test.sh [extra `dotnet test` arguments, e.g. --filter "FullyQualifiedName~Sink"]
#
# On a Debian 12 machine with the .NET 10 SDK (root, or sudo for the one-time installs) it
#   1. installs what is missing from Debian (PostgreSQL; the C toolchain only if librdkafka must be built),
#   2. provides librdkafka 2.15.1 with our mock-cluster patch (eng/librdkafka.sh, cached outside the repo)
#      and puts it on LD_LIBRARY_PATH,
#   3. restores UserStream.Verifiable.slnf (the pipeline libraries, their tests and benchmarks; the Aspire
#      shell is built and tested by .ci/run through ../shared/shell/test where the stand-ins are at hand),
#   4. starts PostgreSQL and sets USERSTREAM_TEST_POSTGRES (unless it is already set: then that server
#      is used as given),
#   5. builds with zero warnings and runs every test, ending with one line "N passed, N failed, N skipped".
# A second run skips what is already done. Every step is announced (==> step); a failing step prints
# "FAILED: <step>" and the script exits non-zero, as it does when a test fails or no test ran.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=eng/common.sh
source eng/common.sh
fail_loudly

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1 DEBIAN_FRONTEND=noninteractive

solution=UserStream.Verifiable.slnf
results="$PWD/TestResults/eng-test" # TestResults/ is git-ignored
run_started=$SECONDS

# --- 1 -------------------------------------------------------------------------------------------------
step "system packages"
command -v dotnet >/dev/null || die "the .NET 10 SDK is not installed (https://dot.net)"
echo "    .NET SDK $(dotnet --version)"
if [[ -z "${USERSTREAM_TEST_POSTGRES:-}" ]]; then
    ensure_debian_packages postgresql
else
    echo "    USERSTREAM_TEST_POSTGRES is set: PostgreSQL is not installed or managed here"
fi

# --- 2 -------------------------------------------------------------------------------------------------
step "librdkafka 2.15.1 with the mock patch"
lib_dir="$(bash eng/librdkafka.sh)"
export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "    LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
# Where the real librdkafka.redist is restored, .NET loads its native library before LD_LIBRARY_PATH;
# the test library's mock cluster can load the patched build by this path instead.
export USERSTREAM_LIBRDKAFKA="$lib_dir/librdkafka.so.1"

# --- 3 -------------------------------------------------------------------------------------------------
# Confluent.Kafka depends on librdkafka.redist 2.15.1, which the NuGet source serves: a plain restore. Its
# default linux-x64 build needs libsasl2.so.3, which Debian 12 lacks; Confluent.Kafka then loads the
# package's centos8 build, or the patched library on LD_LIBRARY_PATH (step 2). The mock cluster always
# loads the patched build through USERSTREAM_LIBRDKAFKA.
step "restore $solution"
restore_log="$(mktemp)"
if ! dotnet restore "$solution" >"$restore_log" 2>&1; then
    cat "$restore_log"
    die "restore failed"
fi
rm -f "$restore_log"
echo "    restored from the configured NuGet sources"

# --- 4 -------------------------------------------------------------------------------------------------
step "PostgreSQL"
if [[ -n "${USERSTREAM_TEST_POSTGRES:-}" ]]; then
    echo "    using USERSTREAM_TEST_POSTGRES as given"
else
    export USERSTREAM_TEST_POSTGRES="Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres"
    as_postgres=(runuser -u postgres --)
    as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        as_postgres=(sudo -n -u postgres)
        as_root=(sudo -n)
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        echo "    already running on 127.0.0.1:5432"
    else
        # The Debian cluster on port 5432 (15/main on Debian 12).
        read -r pg_version pg_cluster _ < <(pg_lsclusters -h | awk '$3 == 5432 { print $1, $2; exit }') ||
            die "no PostgreSQL cluster on port 5432 (pg_lsclusters)"
        echo "    starting cluster $pg_version/$pg_cluster"
        "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" start
        for _ in $(seq 60); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 0.5
        done
        pg_isready -h 127.0.0.1 -p 5432 || die "PostgreSQL did not become ready within 30 s"
    fi
    if PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U postgres -d postgres -qtAc "SELECT 1" >/dev/null 2>&1; then
        echo "    password login as postgres works"
    else
        echo "    setting the postgres user's password"
        (cd / && "${as_postgres[@]}" psql -q -c "ALTER USER postgres PASSWORD 'postgres'")
        PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U postgres -d postgres -qtAc "SELECT 1" >/dev/null ||
            die "password login as postgres on 127.0.0.1:5432 still fails (check pg_hba.conf)"
    fi
fi

# --- 5 -------------------------------------------------------------------------------------------------
step "build $solution"
build_log="$(mktemp)"
if ! dotnet build "$solution" --no-restore -tl:off -nologo -v:minimal >"$build_log" 2>&1; then
    grep -E "error|warning" "$build_log" | sort -u || cat "$build_log"
    die "build failed"
fi
warnings="$(grep -cE ": warning [A-Z]+[0-9]+" "$build_log" || true)"
if [[ "$warnings" -ne 0 ]]; then
    grep -E ": warning [A-Z]+[0-9]+" "$build_log" | sort -u
    die "the build has $warnings warning(s); it must have none"
fi
rm -f "$build_log"
echo "    0 warnings"

step "test"
echo "    setup took $((SECONDS - run_started)) s"
rm -rf "$results"
mkdir -p "$results"
test_rc=0
dotnet test "$solution" --no-build --blame-hang-timeout 5m --blame-hang-dump-type none \
    --logger trx --results-directory "$results" "$@" || test_rc=$?

# Sum the TRX counters (one file per test project). Skipped tests count in "total" but not in "executed".
counter() {
    local name="$1" file sum=0 value
    for file in "$results"/*.trx; do
        [[ -f "$file" ]] || continue
        value="$(grep -o "<Counters [^>]*" "$file" | grep -o " $name=\"[0-9]*\"" | grep -o "[0-9]\+" || echo 0)"
        sum=$((sum + value))
    done
    echo "$sum"
}
passed="$(counter passed)"
failed=$(($(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted)))
skipped=$(($(counter total) - $(counter executed)))

echo "    test results: $results (total $((SECONDS - run_started)) s)"
_step="" # from here on, report the outcome ourselves
outcome=0
if [[ $failed -gt 0 ]]; then
    echo "FAILED: test ($failed failed)" >&2
    outcome=1
elif [[ $passed -eq 0 ]]; then
    echo "FAILED: test (no test ran)" >&2
    outcome=1
elif [[ $test_rc -ne 0 ]]; then
    echo "FAILED: test (dotnet test exited with $test_rc; the run was aborted, see above)" >&2
    outcome=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $outcome
