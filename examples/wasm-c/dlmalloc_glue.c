/*
 * dlmalloc_glue.c: for the benchmark build that links wasi-libc's malloc
 * (dlmalloc.o and sbrk.o from /usr/lib/wasm32-wasi/libc.a) into the
 * -nostdlib module instead of importing heapfit. Those two objects need
 * only errno and abort besides memcpy/memset (wasm_rt.c); defining them
 * here keeps the rest of libc out of the link.
 */
_Thread_local int errno;

void abort(void) {
	__builtin_trap();
}
