/*
 * rt.h: what the example program needs from its environment, declared
 * without any libc header so that the same source builds for wasm32 with
 * -nostdlib and natively against the system libc.
 *
 *   wasm32 + heapfit:  the six allocation functions are imports from `env`
 *                      (wasmImports(heap) in src/wasm.ts), print_line is an
 *                      import, memcpy & co. come from wasm_rt.c.
 *   wasm32 + dlmalloc: the allocation functions are linked in (bench only).
 *   native (gcc):      everything comes from libc; native_main.c supplies
 *                      print_line and main.
 */
#ifndef HEAPFIT_EXAMPLE_RT_H
#define HEAPFIT_EXAMPLE_RT_H

typedef __SIZE_TYPE__ size_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __UINTPTR_TYPE__ uintptr_t;

/* The C allocator. */
void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void *aligned_alloc(size_t align, size_t size);
int posix_memalign(void **memptr, size_t align, size_t size);

/* Memory and strings. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Output: one line of text, without its newline. */
void print_line(const char *text, size_t len);

/* The program: runs every phase at `scale` and returns the final checksum. */
uint32_t run(uint32_t scale);

#endif
