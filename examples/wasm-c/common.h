/*
 * common.h: the helpers every phase of workload.c uses: a PRNG, FNV-1a,
 * allocation that traps on failure, a string builder, report lines. Static
 * functions, included by workload.c only.
 */
#ifndef HEAPFIT_EXAMPLE_COMMON_H
#define HEAPFIT_EXAMPLE_COMMON_H

#include "rt.h"

/* ── small helpers ─────────────────────────────────────────────────────── */

/* xorshift32: the one source of randomness, seeded per phase. */
static uint32_t rng_next(uint32_t *state) {
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* FNV-1a over bytes, continuing from `h`. */
static uint32_t fnv(uint32_t h, const void *data, size_t len) {
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t fnv_u32(uint32_t h, uint32_t v) {
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	return fnv(h, b, 4);
}

#define FNV_INIT 2166136261u

static void fail(const char *what) {
	print_line(what, strlen(what));
	__builtin_trap();
}

static void *xmalloc(size_t n) {
	void *p = malloc(n);
	if (p == 0) fail("out of memory: malloc");
	return p;
}

static void *xrealloc(void *old, size_t n) {
	void *p = realloc(old, n);
	if (p == 0) fail("out of memory: realloc");
	return p;
}

/* ── string builder ────────────────────────────────────────────────────── */

typedef struct {
	char *data;
	size_t len;
	size_t cap;
} sb_t;

static void sb_init(sb_t *b) {
	b->data = 0;
	b->len = 0;
	b->cap = 0;
}

/* Makes room for `extra` more bytes, growing by about 1.5×. */
static void sb_reserve(sb_t *b, size_t extra) {
	size_t need = b->len + extra;
	if (need <= b->cap) return;
	size_t cap = b->cap != 0 ? b->cap : 16;
	while (cap < need) cap += cap / 2 + 8;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

static void sb_putn(sb_t *b, const char *s, size_t n) {
	sb_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void sb_puts(sb_t *b, const char *s) {
	sb_putn(b, s, strlen(s));
}

static void sb_putc(sb_t *b, char c) {
	sb_reserve(b, 1);
	b->data[b->len++] = c;
}

static void sb_u32(sb_t *b, uint32_t v) {
	char tmp[10];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sb_reserve(b, (size_t)n);
	while (n > 0) b->data[b->len++] = tmp[--n];
}

static void sb_hex(sb_t *b, uint32_t v) {
	static const char digits[] = "0123456789abcdef";
	sb_reserve(b, 8);
	for (int i = 7; i >= 0; i--) b->data[b->len++] = digits[(v >> (i * 4)) & 15];
}

static void sb_free(sb_t *b) {
	free(b->data);
	sb_init(b);
}

/* Prints the builder's contents as one line and empties it. */
static void sb_emit(sb_t *b) {
	print_line(b->data, b->len);
	b->len = 0;
}

/* "name k1=v1 k2=v2 ..." lines: the report of every phase. */
static void kv(sb_t *b, const char *key, uint32_t value) {
	sb_putc(b, ' ');
	sb_puts(b, key);
	sb_putc(b, '=');
	sb_u32(b, value);
}

static void kvhex(sb_t *b, const char *key, uint32_t value) {
	sb_putc(b, ' ');
	sb_puts(b, key);
	sb_putc(b, '=');
	sb_hex(b, value);
}

#endif
