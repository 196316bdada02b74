#!/usr/bin/env bash
# Builds the Lambda function package: release, --static-swift-stdlib, stripped, named `bootstrap`, zipped
# into .build/lambda/facecluster-lambda-<arch>.zip (copied to facecluster-lambda.zip, which deploy/template.yaml uses) (for runtime provided.al2023; one zip serves both functions,
# `_HANDLER` picks ingest or api). Fails when the binary needs more than provided.al2023 has: a glibc symbol
# newer than 2.34, a libstdc++ symbol newer than GLIBCXX_3.4.29, or a shared library other than libc, libm,
# libstdc++, libgcc_s, libz and the dynamic loader. Prints the zip's size.
#
# It builds for this machine's architecture (x86_64 here). For arm64 (the template's default, cheaper per
# GB-second) run it on an arm64 Debian 12 machine with Swift 6.3, or pass Architecture=x86_64 to the template.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v zip >/dev/null || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"; $sudo apt-get install -y -qq zip >/dev/null; }

swift build -c release --product bootstrap --static-swift-stdlib
binary="$(swift build -c release --product bootstrap --static-swift-stdlib --show-bin-path)/bootstrap"
arch="$(uname -m)"; [ "$arch" = aarch64 ] && arch=arm64
out=.build/lambda
rm -rf "$out/$arch" && mkdir -p "$out/$arch"
cp "$binary" "$out/$arch/bootstrap"
strip "$out/$arch/bootstrap"

failed=0
newest() { objdump -T "$out/$arch/bootstrap" | grep -o "$1_[0-9.]*" | sed "s/$1_//" | sort -uV | tail -n 1; }
glibc="$(newest GLIBC)"
glibcxx="$(newest GLIBCXX)"
if [ "$(printf '%s\n2.34\n' "$glibc" | sort -V | tail -n 1)" != "2.34" ]; then
  echo "FAIL: needs GLIBC_$glibc; provided.al2023 has 2.34:" >&2
  objdump -T "$out/$arch/bootstrap" | grep -E "GLIBC_2\.(3[5-9]|[4-9][0-9])" >&2
  failed=1
fi
if [ -n "$glibcxx" ] && [ "$(printf '%s\n3.4.29\n' "$glibcxx" | sort -V | tail -n 1)" != "3.4.29" ]; then
  echo "FAIL: needs GLIBCXX_$glibcxx; provided.al2023 has 3.4.29:" >&2
  objdump -T "$out/$arch/bootstrap" | grep -E "GLIBCXX_3\.4\.(3[0-9])" >&2
  failed=1
fi
allowed='^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libz\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'
for library in $(readelf -d "$out/$arch/bootstrap" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  if ! [[ "$library" =~ $allowed ]]; then
    echo "FAIL: needs $library, which provided.al2023 does not have" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] || exit 1

zipfile="$out/facecluster-lambda-$arch.zip"
rm -f "$zipfile"
(cd "$out/$arch" && zip -q -9 "../$(basename "$zipfile")" bootstrap)
cp "$zipfile" "$out/facecluster-lambda.zip"   # what deploy/template.yaml points at
echo "bootstrap: GLIBC ≤ $glibc, GLIBCXX ≤ ${glibcxx:-none}, libraries: $(readelf -d "$out/$arch/bootstrap" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo "binary $(du -h "$out/$arch/bootstrap" | cut -f1), zip $(du -h "$zipfile" | cut -f1) ($(stat -c %s "$zipfile") bytes): $zipfile"
