#!/usr/bin/env bash
# build.sh: builds the example program three ways. Installs nothing.
#
#   examples/wasm-c/build.sh [out-dir]        (default: examples/wasm-c/build)
#
#   workload.wasm           wasm32, no libc: malloc & co. imported from env
#                           (heapfit's wasmImports), memory imported
#   workload-dlmalloc.wasm  the same program with wasi-libc's malloc (dlmalloc)
#                           linked in, for bench/wasm.ts; only when the
#                           wasi-libc package is installed
#   workload-native         native, on the system libc's malloc (gcc)
#
# Needs clang and wasm-ld (Debian: apt-get install -y clang lld) and gcc;
# wasi-libc (apt-get install -y wasi-libc) for the dlmalloc build.
# Exits with status 2 when clang or wasm-ld is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/build}"
clang="${CLANG:-clang}"
cc="${CC:-gcc}"
wasi_libc="${WASI_LIBC:-/usr/lib/wasm32-wasi/libc.a}"

for tool in "$clang" wasm-ld; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build.sh: $tool not found; on Debian: apt-get install -y clang lld" >&2
		exit 2
	fi
done
mkdir -p "$out"

cflags=(-O2 -std=c11 -Wall -Wextra)
wasm_flags=(--target=wasm32 -nostdlib
	-Wl,--no-entry -Wl,--export=run -Wl,--import-memory
	-Wl,--allow-undefined -Wl,--export=__heap_base)
src=("$here/workload.c" "$here/wasm_rt.c")

"$clang" "${wasm_flags[@]}" "${cflags[@]}" "${src[@]}" -o "$out/workload.wasm"
echo "built $out/workload.wasm"

if [ -f "$wasi_libc" ]; then
	# Only dlmalloc.o and sbrk.o are pulled from the archive: everything else
	# they need is defined by wasm_rt.c and dlmalloc_glue.c.
	"$clang" "${wasm_flags[@]}" "${cflags[@]}" "${src[@]}" "$here/dlmalloc_glue.c" "$wasi_libc" \
		-o "$out/workload-dlmalloc.wasm"
	echo "built $out/workload-dlmalloc.wasm"
else
	echo "skipped workload-dlmalloc.wasm: $wasi_libc not found (apt-get install -y wasi-libc)"
fi

if command -v "$cc" >/dev/null 2>&1; then
	"$cc" "${cflags[@]}" "$here/workload.c" "$here/native_main.c" -o "$out/workload-native"
	echo "built $out/workload-native"
else
	echo "skipped workload-native: $cc not found"
fi
