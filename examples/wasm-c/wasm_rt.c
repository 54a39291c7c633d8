/*
 * wasm_rt.c: the few libc string functions the example needs, for the
 * wasm32 builds, which link no libc. Byte loops: clang's loop-idiom pass
 * knows not to turn a function named memcpy into a call to itself.
 */
#include "rt.h"

/* A u32 that may alias any other type, for the word-at-a-time copy. */
typedef uint32_t __attribute__((may_alias)) word_t;

void *memcpy(void *dst, const void *src, size_t n) {
	uint8_t *d = dst;
	const uint8_t *s = src;
	if ((((uintptr_t)d | (uintptr_t)s | n) & 3) == 0) {
		for (; n != 0; n -= 4, d += 4, s += 4) *(word_t *)d = *(const word_t *)s;
		return dst;
	}
	while (n--) *d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d <= s || d >= s + n) return memcpy(dst, src, n);
	while (n--) d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n) {
	uint8_t *d = dst;
	while (n--) *d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
	const uint8_t *x = a, *y = b;
	for (; n != 0; n--, x++, y++) {
		if (*x != *y) return *x < *y ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s) {
	const char *p = s;
	while (*p) p++;
	return (size_t)(p - s);
}
