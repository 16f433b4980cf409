#!/usr/bin/env bash
# Provides librdkafka 2.15.1 with our mock-cluster patch (eng/librdkafka-mock-transactions.patch) and prints
# the folder holding it (librdkafka.so.1 + librdkafka.so) as its last line on stdout; progress goes to
# stderr. Use:  export LD_LIBRARY_PATH="$(bash eng/librdkafka.sh)"
#
# Why: the tests use librdkafka's built-in mock Kafka cluster, which needs librdkafka >= 2.15 with our
# patch, and the NuGet source of the CI machine lacks librdkafka.redist. The C source of librdkafka
# 2.15.1 ships inside the npm package @confluentinc/kafka-javascript@1.10.1, so it is built from there.
# The result is cached outside the repository, keyed by the patch's hash:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/userstream/librdkafka-2.15.1-<patch hash>/lib
# Confluent.Kafka's Library.Load(path) fails on Debian 12 (it dlopens "libdl"), so the library is
# found by its default name through LD_LIBRARY_PATH instead.
set -euo pipefail

eng="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=eng/common.sh
source "$eng/common.sh"

version=2.15.1
version_hex=0x020f01ff
npm_package=@confluentinc/kafka-javascript@1.10.1
patch_file="$eng/librdkafka-mock-transactions.patch"
patch_hash="$(sha256sum "$patch_file" | cut -c1-12)"
target="$(userstream_cache)/librdkafka-$version-$patch_hash"
lib="$target/lib"

if [[ -f "$lib/librdkafka.so.1" && -L "$lib/librdkafka.so" ]]; then
    echo "    cached: $lib" >&2
    echo "$lib"
    exit 0
fi

{
    echo "    not cached: building librdkafka $version (patch $patch_hash) from $npm_package"
    ensure_debian_packages build-essential zlib1g-dev libssl-dev pkg-config python3 patch
    command -v npm >/dev/null || ensure_debian_packages npm
} >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "    npm pack $npm_package" >&2
(cd "$work" && NPM_CONFIG_UPDATE_NOTIFIER=false npm pack --silent --no-fund --no-audit "$npm_package" </dev/null >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
source_dir="$work/package/deps/librdkafka"

found_hex="$(sed -n 's/^#define RD_KAFKA_VERSION[[:space:]]\+\(0x[0-9a-fA-F]\+\).*/\1/p' "$source_dir/src/rdkafka.h")"
[[ "$found_hex" == "$version_hex" ]] ||
    die "$npm_package carries librdkafka $found_hex, expected $version_hex ($version)"

echo "    patch -p1 < $(basename "$patch_file")" >&2
(cd "$source_dir" && patch -p1 --forward --quiet <"$patch_file") >&2

echo "    ./configure --disable-gssapi --disable-sasl && make -j2 libs (log: $work/build.log)" >&2
if ! (cd "$source_dir" && ./configure --disable-gssapi --disable-sasl && make -j2 libs) >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log" >&2
    die "building librdkafka failed"
fi
if grep -n "rdkafka_mock[a-z_]*\.[ch]:.*warning:" "$work/build.log" >&2; then
    die "the patched mock compiles with warnings"
fi

# Publish atomically: a concurrent run either sees nothing or the complete folder.
mkdir -p "$(userstream_cache)"
staging="$(mktemp -d "$(userstream_cache)/.librdkafka-XXXXXX")"
chmod 755 "$staging"
mkdir -p "$staging/lib"
cp "$source_dir/src/librdkafka.so.1" "$staging/lib/librdkafka.so.1"
ln -s librdkafka.so.1 "$staging/lib/librdkafka.so"
cp "$patch_file" "$staging/"
if ! mv -T "$staging" "$target" 2>/dev/null; then
    rm -rf "$staging" # another run published it first
fi

[[ -f "$lib/librdkafka.so.1" ]] || die "librdkafka was built but $lib/librdkafka.so.1 is missing"
echo "    built: $lib" >&2
echo "$lib"
