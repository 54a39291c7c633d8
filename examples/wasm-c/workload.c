/*
 * workload.c: an allocation-heavy C program, heapfit's wasm example.
 * Entry point: run(scale), exported from the wasm module.
 *
 * Five phases, each printing one line whose numbers depend only on the
 * program (never on addresses, block sizes or the allocator), so a build on
 * any correct malloc prints the same lines:
 *
 *   trees    binary trees: one long-lived tree, many short-lived ones built
 *            and freed depth by depth (malloc/calloc/free of small nodes,
 *            leaves carry a label of variable length)
 *   words    a chained hash map counting generated words with string keys:
 *            the bucket array grows by realloc and is split in place, some
 *            words are deleted as they come, then the rare ones are removed
 *            and the bucket array shrinks by realloc
 *   text     eight string builders filled round robin (realloc growth that
 *            interleaves, so it cannot always happen in place), then joined
 *   aligned  posix_memalign / aligned_alloc of matrices at 16..4096-byte
 *            alignments, checked, filled, multiplied, resized
 *   churn    a table of live blocks of random sizes, each stamped with a
 *            pattern that is verified when it is resized or freed
 *
 * Every allocation failure prints a line and traps.
 */
#include "common.h"

/* ── phase 1: binary trees ─────────────────────────────────────────────── */

typedef struct node {
	struct node *left;
	struct node *right;
	char *label; /* leaves only: 1..40 bytes, NUL-terminated */
	uint32_t value;
} node_t;

/* A full tree of `depth` levels below the root; leaves come from calloc. */
static node_t *tree_make(uint32_t depth, uint32_t *rng) {
	node_t *t;
	if (depth == 0) {
		t = calloc(1, sizeof(node_t));
		if (t == 0) fail("out of memory: calloc");
		uint32_t n = 1 + rng_next(rng) % 40;
		t->label = xmalloc(n + 1);
		for (uint32_t i = 0; i < n; i++) t->label[i] = (char)('a' + (rng_next(rng) % 26));
		t->label[n] = 0;
	} else {
		t = xmalloc(sizeof(node_t));
		t->left = tree_make(depth - 1, rng);
		t->right = tree_make(depth - 1, rng);
		t->label = 0;
	}
	t->value = rng_next(rng) & 0xffff;
	return t;
}

/* Order-sensitive checksum of a tree: values, shape and labels. */
static uint32_t tree_sum(const node_t *t) {
	if (t->left == 0) return fnv(t->value, t->label, strlen(t->label));
	uint32_t l = tree_sum(t->left);
	uint32_t r = tree_sum(t->right);
	return (l * 31 + r) ^ t->value;
}

static uint32_t tree_nodes(const node_t *t) {
	return t->left == 0 ? 1 : 1 + tree_nodes(t->left) + tree_nodes(t->right);
}

static void tree_free(node_t *t) {
	if (t->left != 0) {
		tree_free(t->left);
		tree_free(t->right);
	} else {
		free(t->label);
	}
	free(t);
}

static uint32_t phase_trees(sb_t *out, uint32_t scale) {
	uint32_t rng = 0x9e3779b9u;
	const uint32_t max_depth = 12;
	node_t *long_lived = tree_make(max_depth, &rng);
	uint32_t sum = FNV_INIT;
	uint32_t made = 0;
	for (uint32_t depth = 2; depth <= max_depth; depth += 2) {
		uint32_t iterations = scale << (max_depth - depth + 2);
		for (uint32_t i = 0; i < iterations; i++) {
			node_t *t = tree_make(depth, &rng);
			sum = fnv_u32(sum, tree_sum(t));
			made += tree_nodes(t);
			tree_free(t);
		}
	}
	sum = fnv_u32(sum, tree_sum(long_lived));
	uint32_t kept = tree_nodes(long_lived);
	tree_free(long_lived);
	sb_puts(out, "trees");
	kv(out, "nodes", made);
	kv(out, "long_lived", kept);
	kvhex(out, "sum", sum);
	sb_emit(out);
	return sum;
}

/* ── phase 2: a chained hash map with string keys ──────────────────────── */

typedef struct entry {
	struct entry *next;
	uint32_t hash;
	uint32_t count;
	uint32_t len;
	char key[]; /* len bytes and a NUL */
} entry_t;

typedef struct {
	entry_t **buckets;
	uint32_t nbuckets; /* a power of two */
	uint32_t size;
} map_t;

static void map_init(map_t *m) {
	m->nbuckets = 8;
	m->size = 0;
	m->buckets = calloc(m->nbuckets, sizeof(entry_t *));
	if (m->buckets == 0) fail("out of memory: calloc");
}

/* Doubles the bucket array with realloc and splits every chain in place. */
static void map_grow(map_t *m) {
	uint32_t old = m->nbuckets;
	m->buckets = xrealloc(m->buckets, (size_t)old * 2 * sizeof(entry_t *));
	m->nbuckets = old * 2;
	for (uint32_t i = 0; i < old; i++) {
		entry_t *keep = 0, **keep_tail = &keep;
		entry_t *move = 0, **move_tail = &move;
		for (entry_t *e = m->buckets[i]; e != 0; e = e->next) {
			if ((e->hash & (m->nbuckets - 1)) == i) {
				*keep_tail = e;
				keep_tail = &e->next;
			} else {
				*move_tail = e;
				move_tail = &e->next;
			}
		}
		*keep_tail = 0;
		*move_tail = 0;
		m->buckets[i] = keep;
		m->buckets[i + old] = move;
	}
}

/* Halves the bucket array: chain i + half is appended to chain i, then realloc. */
static void map_shrink(map_t *m) {
	uint32_t half = m->nbuckets / 2;
	for (uint32_t i = 0; i < half; i++) {
		entry_t **tail = &m->buckets[i];
		while (*tail != 0) tail = &(*tail)->next;
		*tail = m->buckets[i + half];
	}
	m->buckets = xrealloc(m->buckets, (size_t)half * sizeof(entry_t *));
	m->nbuckets = half;
}

static entry_t **map_slot(map_t *m, const char *key, uint32_t len, uint32_t hash) {
	entry_t **slot = &m->buckets[hash & (m->nbuckets - 1)];
	while (*slot != 0) {
		entry_t *e = *slot;
		if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0) break;
		slot = &e->next;
	}
	return slot;
}

static void map_add(map_t *m, const char *key, uint32_t len) {
	uint32_t hash = fnv(FNV_INIT, key, len);
	entry_t **slot = map_slot(m, key, len, hash);
	if (*slot != 0) {
		(*slot)->count++;
		return;
	}
	entry_t *e = xmalloc(sizeof(entry_t) + len + 1);
	e->next = 0;
	e->hash = hash;
	e->count = 1;
	e->len = len;
	memcpy(e->key, key, len);
	e->key[len] = 0;
	*slot = e;
	if (++m->size > m->nbuckets) map_grow(m);
}

/* Removes `key`; returns its count (0 when absent). */
static uint32_t map_del(map_t *m, const char *key, uint32_t len) {
	uint32_t hash = fnv(FNV_INIT, key, len);
	entry_t **slot = map_slot(m, key, len, hash);
	entry_t *e = *slot;
	if (e == 0) return 0;
	uint32_t count = e->count;
	*slot = e->next;
	free(e);
	m->size--;
	return count;
}

/* A word of 1..12 letters from an 8-letter alphabet, short words likelier. */
static uint32_t make_word(char *buf, uint32_t *rng) {
	uint32_t r = rng_next(rng);
	uint32_t len = 1 + (r % 4) + ((r >> 8) % 4) + ((r >> 16) % 5);
	for (uint32_t i = 0; i < len; i++) buf[i] = (char)('a' + (rng_next(rng) & 7));
	return len;
}

/* Checksum of the map in bucket order, and the most counted word. */
static uint32_t map_digest(const map_t *m, uint32_t *total, uint32_t *longest_chain, sb_t *top) {
	uint32_t sum = FNV_INIT;
	uint32_t best = 0;
	*total = 0;
	*longest_chain = 0;
	top->len = 0;
	for (uint32_t i = 0; i < m->nbuckets; i++) {
		uint32_t chain = 0;
		for (const entry_t *e = m->buckets[i]; e != 0; e = e->next) {
			sum = fnv_u32(fnv(sum, e->key, e->len), e->count);
			*total += e->count;
			chain++;
			int better = e->count > best;
			if (e->count == best && top->len != 0) {
				size_t n = e->len < top->len ? e->len : top->len;
				int c = memcmp(e->key, top->data, n);
				better = c < 0 || (c == 0 && e->len < top->len);
			}
			if (better) {
				best = e->count;
				top->len = 0;
				sb_putn(top, e->key, e->len);
			}
		}
		if (chain > *longest_chain) *longest_chain = chain;
	}
	return sum;
}

static uint32_t phase_words(sb_t *out, uint32_t scale) {
	uint32_t rng = 0x2545f491u;
	map_t m;
	map_init(&m);
	char word[16];
	uint32_t deleted = 0;
	uint32_t words = scale * 120000;
	for (uint32_t i = 0; i < words; i++) {
		map_add(&m, word, make_word(word, &rng));
		if (i % 5 == 4) {
			uint32_t len = make_word(word, &rng);
			deleted += map_del(&m, word, len) != 0;
		}
	}
	uint32_t total, chain;
	sb_t top;
	sb_init(&top);
	uint32_t sum = map_digest(&m, &total, &chain, &top);
	uint32_t peak_buckets = m.nbuckets;
	// Remove every word seen only once, then shrink the bucket array to fit.
	uint32_t rare = 0;
	for (uint32_t i = 0; i < m.nbuckets; i++) {
		entry_t **slot = &m.buckets[i];
		while (*slot != 0) {
			entry_t *e = *slot;
			if (e->count == 1) {
				*slot = e->next;
				free(e);
				m.size--;
				rare++;
			} else {
				slot = &e->next;
			}
		}
	}
	while (m.nbuckets > 8 && m.size <= m.nbuckets / 4) map_shrink(&m);
	uint32_t total2, chain2;
	sum = fnv_u32(sum, map_digest(&m, &total2, &chain2, &top));
	sb_puts(out, "words");
	kv(out, "added", words);
	kv(out, "deleted", deleted);
	kv(out, "distinct", m.size + rare);
	kv(out, "rare", rare);
	kv(out, "buckets", peak_buckets);
	kv(out, "shrunk_to", m.nbuckets);
	kv(out, "longest_chain", chain);
	kv(out, "total", total);
	sb_puts(out, " top=");
	sb_putn(out, top.data, top.len);
	kvhex(out, "sum", sum);
	sb_emit(out);
	for (uint32_t i = 0; i < m.nbuckets; i++) {
		while (m.buckets[i] != 0) {
			entry_t *e = m.buckets[i];
			m.buckets[i] = e->next;
			free(e);
		}
	}
	free(m.buckets);
	sb_free(&top);
	return sum;
}

/* ── phase 3: string builders ──────────────────────────────────────────── */

#define BUILDERS 8

static uint32_t phase_text(sb_t *out, uint32_t scale) {
	uint32_t rng = 0x61c88647u;
	sb_t b[BUILDERS];
	for (int i = 0; i < BUILDERS; i++) sb_init(&b[i]);
	uint32_t lines = scale * 30000;
	char word[16];
	for (uint32_t i = 0; i < lines; i++) {
		sb_t *s = &b[rng_next(&rng) % BUILDERS];
		sb_puts(s, "line ");
		sb_u32(s, i);
		sb_puts(s, ": ");
		uint32_t n = 1 + rng_next(&rng) % 6;
		for (uint32_t w = 0; w < n; w++) {
			sb_putn(s, word, make_word(word, &rng));
			sb_putc(s, w + 1 < n ? ' ' : '\n');
		}
		if (rng_next(&rng) % 1999 == 0) {
			// Now and then a builder is thrown away and started again.
			sb_free(s);
		}
	}
	// Join them all into one, growing it with realloc as it goes.
	sb_t all;
	sb_init(&all);
	uint32_t sum = FNV_INIT;
	for (int i = 0; i < BUILDERS; i++) {
		sum = fnv_u32(sum, fnv(FNV_INIT, b[i].data, b[i].len));
		sb_putn(&all, b[i].data, b[i].len);
		sb_free(&b[i]);
	}
	uint32_t bytes = (uint32_t)all.len;
	uint32_t newlines = 0;
	for (size_t i = 0; i < all.len; i++) newlines += all.data[i] == '\n';
	sum = fnv_u32(sum, fnv(FNV_INIT, all.data, all.len));
	sb_free(&all);
	sb_puts(out, "text");
	kv(out, "lines", lines);
	kv(out, "kept_lines", newlines);
	kv(out, "bytes", bytes);
	kvhex(out, "sum", sum);
	sb_emit(out);
	return sum;
}

/* ── phase 4: aligned matrices ─────────────────────────────────────────── */

static uint32_t phase_aligned(sb_t *out, uint32_t scale) {
	uint32_t rng = 0x1b873593u;
	uint32_t sum = FNV_INIT;
	uint32_t misaligned = 0;
	uint32_t rejected = 0;
	uint32_t rounds = scale * 200;
	for (uint32_t r = 0; r < rounds; r++) {
		size_t align = (size_t)16 << (r % 9); /* 16 .. 4096 */
		uint32_t n = 4 + rng_next(&rng) % 29;
		size_t bytes = (size_t)n * n * sizeof(uint32_t);
		uint32_t *a = 0, *c = 0;
		if (posix_memalign((void **)&a, align, bytes) != 0) fail("posix_memalign failed");
		uint32_t *b = aligned_alloc(align, bytes);
		if (b == 0) fail("aligned_alloc failed");
		if (posix_memalign((void **)&c, align, bytes) != 0) fail("posix_memalign failed");
		misaligned += ((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) & (align - 1) ? 1 : 0;
		for (uint32_t i = 0; i < n * n; i++) {
			a[i] = rng_next(&rng) & 0xff;
			b[i] = rng_next(&rng) & 0xff;
		}
		for (uint32_t i = 0; i < n; i++) {
			for (uint32_t j = 0; j < n; j++) {
				uint32_t acc = 0;
				for (uint32_t k = 0; k < n; k++) acc += a[i * n + k] * b[k * n + j];
				c[i * n + j] = acc;
			}
		}
		// Grow the result and append the trace of the product; keep the rest.
		c = xrealloc(c, bytes + sizeof(uint32_t));
		uint32_t trace = 0;
		for (uint32_t i = 0; i < n; i++) trace += c[i * n + i];
		c[n * n] = trace;
		sum = fnv(sum, c, bytes + sizeof(uint32_t));
		free(a);
		free(b);
		free(c);
		// An alignment that is not a power of two multiple of sizeof(void *).
		void *bad = 0;
		if (posix_memalign(&bad, align + sizeof(void *) / 2, 16) != 0 && bad == 0) rejected++;
		else free(bad);
	}
	sb_puts(out, "aligned");
	kv(out, "rounds", rounds);
	kv(out, "misaligned", misaligned);
	kv(out, "bad_align_rejected", rejected);
	kvhex(out, "sum", sum);
	sb_emit(out);
	return sum;
}

/* ── phase 5: churn with stamped blocks ────────────────────────────────── */

#define SLOTS 4096

typedef struct {
	uint8_t *ptr;
	uint32_t size;
	uint32_t seed;
} slot_t;

static void stamp(uint8_t *p, uint32_t size, uint32_t seed) {
	for (uint32_t i = 0; i < size; i++) p[i] = (uint8_t)(seed + i * 7);
}

/* Counts the bytes of the first `n` that no longer hold stamp `seed`. */
static uint32_t stamp_errors(const uint8_t *p, uint32_t n, uint32_t seed) {
	uint32_t bad = 0;
	for (uint32_t i = 0; i < n; i++) bad += p[i] != (uint8_t)(seed + i * 7);
	return bad;
}

/* Counts the bytes of the first `n` that are not zero. */
static uint32_t nonzero(const uint8_t *p, uint32_t n) {
	uint32_t bad = 0;
	for (uint32_t i = 0; i < n; i++) bad += p[i] != 0;
	return bad;
}

/* A size from 1 to 4 KiB, small ones much likelier. */
static uint32_t churn_size(uint32_t *rng) {
	uint32_t r = rng_next(rng);
	uint32_t shift = r % 12;
	return 1 + ((r >> 8) & ((1u << shift) - 1)) + (r >> 28);
}

static uint32_t phase_churn(sb_t *out, uint32_t scale) {
	uint32_t rng = 0xcc9e2d51u;
	slot_t *slots = calloc(SLOTS, sizeof(slot_t));
	if (slots == 0) fail("out of memory: calloc");
	uint32_t ops = scale * 150000;
	uint32_t errors = 0, mallocs = 0, reallocs = 0, frees = 0;
	uint32_t sum = FNV_INIT;
	for (uint32_t op = 0; op < ops; op++) {
		slot_t *s = &slots[rng_next(&rng) % SLOTS];
		uint32_t what = rng_next(&rng) % 8;
		if (s->ptr == 0) {
			s->size = churn_size(&rng);
			s->seed = rng_next(&rng);
			s->ptr = what == 0 ? calloc(s->size, 1) : xmalloc(s->size);
			if (s->ptr == 0) fail("out of memory: calloc");
			if (what == 0) errors += nonzero(s->ptr, s->size);
			stamp(s->ptr, s->size, s->seed);
			mallocs++;
		} else if (what < 3) {
			uint32_t size = churn_size(&rng);
			s->ptr = xrealloc(s->ptr, size);
			uint32_t kept = size < s->size ? size : s->size;
			errors += stamp_errors(s->ptr, kept, s->seed);
			sum = fnv_u32(sum, kept);
			s->size = size;
			stamp(s->ptr, s->size, s->seed);
			reallocs++;
		} else {
			errors += stamp_errors(s->ptr, s->size, s->seed);
			sum = fnv_u32(sum, s->size ^ s->seed);
			free(s->ptr);
			s->ptr = 0;
			frees++;
		}
	}
	uint32_t live = 0;
	for (uint32_t i = 0; i < SLOTS; i++) {
		if (slots[i].ptr == 0) continue;
		errors += stamp_errors(slots[i].ptr, slots[i].size, slots[i].seed);
		free(slots[i].ptr);
		live++;
	}
	free(slots);
	sb_puts(out, "churn");
	kv(out, "mallocs", mallocs);
	kv(out, "reallocs", reallocs);
	kv(out, "frees", frees);
	kv(out, "live_at_end", live);
	kv(out, "errors", errors);
	kvhex(out, "sum", sum);
	sb_emit(out);
	return sum;
}

/* ── the program ───────────────────────────────────────────────────────── */

uint32_t run(uint32_t scale) {
	sb_t out;
	sb_init(&out);
	uint32_t sum = FNV_INIT;
	sum = fnv_u32(sum, phase_trees(&out, scale));
	sum = fnv_u32(sum, phase_words(&out, scale));
	sum = fnv_u32(sum, phase_text(&out, scale));
	sum = fnv_u32(sum, phase_aligned(&out, scale));
	sum = fnv_u32(sum, phase_churn(&out, scale));
	sb_puts(&out, "total");
	kv(&out, "scale", scale);
	kvhex(&out, "sum", sum);
	sb_emit(&out);
	sb_free(&out);
	return sum;
}
