/**
 * wasm.ts: heapfit as the C allocator of a wasm32 module. Main entry point:
 * `wasmImports(heap)` → `{ malloc, free, calloc, realloc, aligned_alloc,
 * posix_memalign }`, functions to pass as a module's `env` imports.
 *
 * A module built without a libc allocator (`clang --target=wasm32 -nostdlib
 * -Wl,--import-memory -Wl,--allow-undefined`) leaves these six functions
 * undefined, and the linker turns them into imports from `env`. Give it the
 * heap's memory as `env.memory` and start the heap at the module's
 * `__heap_base` (`-Wl,--export=__heap_base`), above its data and stack:
 *
 * ```ts
 * const memory = new WebAssembly.Memory({ initial: pages });
 * const heap = new Heap({ memory, offset: heapBase });
 * const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, ...wasmImports(heap) } });
 * ```
 *
 * ## Semantics (C17 and POSIX, for wasm32)
 *
 * ```
 *  import                          returns               on failure
 *  ──────────────────────────────  ────────────────────  ──────────────────────────
 *  malloc(size)                    ptr, 8-aligned        0
 *  calloc(count, size)             zeroed ptr            0, also when count × size
 *                                                          does not fit in 32 bits
 *  realloc(ptr, size)              ptr (moved or not)    0, old block untouched
 *  free(ptr)                       -                     -
 *  aligned_alloc(align, size)      ptr % align = 0       0, also for an align that
 *                                                          is not a power of two
 *  posix_memalign(memptr,          0, *memptr = ptr      EINVAL (28) for a bad align,
 *                 align, size)                           ENOMEM (48) when full;
 *                                                          *memptr left as it was
 * ```
 *
 * - Arguments arrive as wasm `i32`, which JavaScript sees signed; every one
 *   is read as an unsigned 32-bit `size_t` or pointer (`>>> 0`). NULL is 0.
 * - `malloc(0)`, `calloc` of 0 bytes, `aligned_alloc(a, 0)` and
 *   `posix_memalign(p, a, 0)` return a unique minimum block, to be freed
 *   like any other (C leaves the choice between that and NULL to us).
 * - `realloc(0, n)` is `malloc(n)`. `realloc(ptr, 0)` shrinks the block to
 *   the minimum block and returns `ptr`, which stays live and must still be
 *   freed (C17 allows this or freeing; C23 makes the call undefined). A
 *   block from `aligned_alloc`/`posix_memalign` keeps its alignment when
 *   `realloc` moves it.
 * - errno values are WASI's (`__WASI_ERRNO_INVAL` = 28,
 *   `__WASI_ERRNO_NOMEM` = 48), which both wasm32 libcs in use (wasi-libc
 *   and Emscripten's) define `EINVAL` and `ENOMEM` to be; they are not the
 *   Linux numbers (22, 12). A failed `malloc` does not set the module's
 *   `errno`: it lives in the module's memory at an address heapfit does not
 *   know.
 * - `posix_memalign` accepts `align` = 4 · 2^k (a power of two multiple of
 *   `sizeof(void *)` = 4 on wasm32), up to 2 GiB. It checks that the 4
 *   bytes at `memptr` lie in the memory before allocating, and writes the
 *   pointer little-endian through `heap.buffer` read after the allocation
 *   (an allocation may grow the memory and detach the old buffer).
 * - `free` or `realloc` of anything that is not a live block (a double free,
 *   an interior or foreign pointer) throws heapfit's HeapError, and a
 *   `posix_memalign` whose `memptr` is NULL, outside the memory or inside
 *   the heap's root, tables or inline bitmap throws
 *   HeapError INVALID_POINTER. A JavaScript exception thrown from an import
 *   unwinds through the module, so the call traps the module where C would
 *   have undefined behaviour, and the heap is left unchanged.
 */
import { heapError } from './errors.js';
import type { Heap } from './heap.js';
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { MAX_ALIGN } = layout;

/** `EINVAL` of a wasm32 libc (WASI numbering): a bad argument. */
export const WASM_EINVAL = 28;
/** `ENOMEM` of a wasm32 libc (WASI numbering): out of memory. */
export const WASM_ENOMEM = 48;

/** `sizeof(void *)` on wasm32, the smallest alignment `posix_memalign` takes. */
const POINTER_BYTES = 4;

/** The C allocator of a wasm32 module, as `env` imports. Every argument is an i32. */
export interface WasmImports {
	/** `void *malloc(size_t size)` */
	malloc(size: number): number;
	/** `void free(void *ptr)` */
	free(ptr: number): void;
	/** `void *calloc(size_t count, size_t size)` */
	calloc(count: number, size: number): number;
	/** `void *realloc(void *ptr, size_t size)` */
	realloc(ptr: number, size: number): number;
	/** `void *aligned_alloc(size_t align, size_t size)` */
	aligned_alloc(align: number, size: number): number;
	/** `int posix_memalign(void **memptr, size_t align, size_t size)` */
	posix_memalign(memptr: number, align: number, size: number): number;
}

/** Whether `align` (a u32) is a power of two that heapfit can align to. */
function isAlign(align: number): boolean {
	return align !== 0 && (align & (align - 1)) === 0 && align <= MAX_ALIGN;
}

/**
 * The six C allocation functions of a wasm32 module, served by `heap`. The
 * heap's buffer must be the module's memory (`new Heap({ memory, ... })`).
 */
export function wasmImports(heap: Heap): WasmImports {
	return {
		malloc: (size) => heap.malloc(size >>> 0),
		free: (ptr) => heap.free(ptr >>> 0),
		calloc: (count, size) => heap.calloc(count >>> 0, size >>> 0),
		realloc: (ptr, size) => heap.realloc(ptr >>> 0, size >>> 0),
		aligned_alloc: (align, size) => {
			const a = align >>> 0;
			return isAlign(a) ? heap.alignedAlloc(a, size >>> 0) : 0;
		},
		posix_memalign: (memptr, align, size) => {
			const out = memptr >>> 0;
			// Never through the heap's own metadata (root, tables, bitmap).
			const inMeta = out + POINTER_BYTES > heap.regionStart && out < heap._payloadBase;
			if (out === 0 || out + POINTER_BYTES > heap.buffer.byteLength || inMeta) {
				throw heapError(
					'INVALID_POINTER',
					'posix_memalign',
					`memptr ${out} is not 4 writable bytes of the module's memory outside the heap's metadata`,
					'out-of-range',
					out,
				);
			}
			const a = align >>> 0;
			if (a < POINTER_BYTES || !isAlign(a)) return WASM_EINVAL;
			const ptr = heap.alignedAlloc(a, size >>> 0);
			if (ptr === 0) return WASM_ENOMEM;
			new DataView(heap.buffer).setUint32(out, ptr, true);
			return 0;
		},
	};
}
