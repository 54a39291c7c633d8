/*
 * replay.c: replays an `alloc-trace v1` (plain text on stdin) through the C
 * library's malloc and prints one line of JSON with what it measured.
 *
 *   zcat trace.gz | ./replay [--no-mmap]
 *
 * The text is read and decoded into arrays first; only the op loop is timed
 * (clock_gettime, CLOCK_MONOTONIC). Everything this program needs besides
 * the replayed blocks (the input text, the decoded columns, the id tables) is
 * mapped with mmap, never malloc'd, so the C library's heap is untouched
 * when the loop starts.
 *
 * Figures are computed the same way as src/trace/replay.ts: liveBytes is the
 * sum of requested sizes, peakLiveBytes its maximum, footprint = max over
 * allocations of (ptr + size) minus the lowest pointer returned.
 *
 * --no-mmap sets M_MMAP_THRESHOLD to its maximum (32 MiB on 64-bit) just
 * before the loop, so every block of the traces lives in the brk heap and
 * the footprint is a meaningful span (by default large blocks are mmapped
 * far away from the heap and the span means nothing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { OP_MALLOC = 0, OP_CALLOC = 1, OP_MEMALIGN = 2, OP_REALLOC = 3, OP_FREE = 4 };

static void die(const char *msg, long line) {
	if (line > 0) fprintf(stderr, "replay: line %ld: %s\n", line, msg);
	else fprintf(stderr, "replay: %s\n", msg);
	exit(2);
}

/* Anonymous mapping of n bytes (zeroed). */
static void *map(size_t n) {
	if (n == 0) n = 1;
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) die("out of memory (mmap)", 0);
	return p;
}

/* Grows a mapping from old to new bytes, keeping its contents. */
static void *remap(void *p, size_t old, size_t new_size) {
	void *q = mremap(p, old, new_size, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) die("out of memory (mremap)", 0);
	return q;
}

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
	int no_mmap = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-mmap") == 0) no_mmap = 1;
		else die("usage: replay [--no-mmap] < trace.txt", 0);
	}

	/* 1. Read all of stdin. */
	size_t cap = 1 << 24, len = 0;
	char *text = map(cap);
	for (;;) {
		if (len == cap) {
			text = remap(text, cap, cap * 2);
			cap *= 2;
		}
		ssize_t r = read(0, text + len, cap - len);
		if (r < 0) {
			if (errno == EINTR) continue;
			die("read error", 0);
		}
		if (r == 0) break;
		len += (size_t)r;
	}

	/* 2. Decode into columns. */
	size_t ocap = 1 << 16, n = 0;
	uint8_t *kind = map(ocap);
	uint32_t *id = map(ocap * 4);
	uint64_t *size = map(ocap * 8);
	uint32_t *align = map(ocap * 4);
	uint32_t max_id = 0;
	long line = 0;
	for (size_t p = 0; p < len;) {
		size_t e = p;
		while (e < len && text[e] != '\n') e++;
		line++;
		size_t s = p;
		p = e + 1;
		while (s < e && (text[s] == ' ' || text[s] == '\t')) s++;
		while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r')) e--;
		if (s == e || text[s] == '#') continue;
		int k;
		switch (text[s]) {
		case 'a': k = OP_MALLOC; break;
		case 'c': k = OP_CALLOC; break;
		case 'm': k = OP_MEMALIGN; break;
		case 'r': k = OP_REALLOC; break;
		case 'f': k = OP_FREE; break;
		default: die("unknown op", line); return 2;
		}
		uint64_t f[3] = {0, 0, 0};
		int nf = 0;
		size_t q = s + 1;
		for (;;) {
			while (q < e && (text[q] == ' ' || text[q] == '\t')) q++;
			if (q >= e) break;
			if (nf == 3) die("too many fields", line);
			uint64_t v = 0;
			for (; q < e && text[q] != ' ' && text[q] != '\t'; q++) {
				unsigned d = (unsigned)(text[q] - '0');
				if (d > 9) die("bad number", line);
				v = v * 10 + d;
			}
			f[nf++] = v;
		}
		int want = k == OP_FREE ? 1 : k == OP_MEMALIGN ? 3 : 2;
		if (nf != want) die("wrong field count", line);
		if (f[0] < 1 || f[0] > 0x0fffffff) die("bad id", line);
		if (n == ocap) {
			kind = remap(kind, ocap, ocap * 2);
			id = remap(id, ocap * 4, ocap * 8);
			size = remap(size, ocap * 8, ocap * 16);
			align = remap(align, ocap * 4, ocap * 8);
			ocap *= 2;
		}
		kind[n] = (uint8_t)k;
		id[n] = (uint32_t)f[0];
		if (k == OP_MEMALIGN) {
			align[n] = (uint32_t)f[1];
			size[n] = f[2];
		} else {
			size[n] = k == OP_FREE ? 0 : f[1];
		}
		if (id[n] > max_id) max_id = id[n];
		n++;
	}
	munmap(text, cap);

	/* 3. Tables indexed by id. */
	void **ptr_of = map(((size_t)max_id + 1) * sizeof(void *));
	uint64_t *size_of = map(((size_t)max_id + 1) * sizeof(uint64_t));
	uint8_t *live = map((size_t)max_id + 1);

	int mmap_set = -1;
	if (no_mmap) mmap_set = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);

	/* 4. The timed loop. */
	uint64_t live_bytes = 0, peak = 0, live_objects = 0;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	size_t i = 0;
	long failed = -1;
	double t0 = now_ns();
	for (; i < n; i++) {
		uint32_t o = id[i];
		int k = kind[i];
		if (k == OP_FREE) {
			if (!live[o]) die("free of an id that is not live", (long)i + 1);
			free(ptr_of[o]);
			live_bytes -= size_of[o];
			live_objects--;
			ptr_of[o] = NULL;
			size_of[o] = 0;
			live[o] = 0;
			continue;
		}
		uint64_t sz = size[i];
		void *p;
		if (k == OP_MALLOC) p = malloc(sz);
		else if (k == OP_REALLOC) {
			if (!live[o]) die("realloc of an id that is not live", (long)i + 1);
			p = realloc(ptr_of[o], sz);
		} else if (k == OP_CALLOC) p = calloc(1, sz);
		else p = memalign(align[i], sz);
		if (p == NULL && sz != 0) {
			failed = (long)i;
			break;
		}
		if (k == OP_REALLOC) live_bytes -= size_of[o];
		else {
			if (live[o]) die("allocation of an id that is live", (long)i + 1);
			live_objects++;
		}
		live[o] = 1;
		ptr_of[o] = p;
		size_of[o] = sz;
		live_bytes += sz;
		if (live_bytes > peak) peak = live_bytes;
		if (p != NULL) {
			uintptr_t a = (uintptr_t)p;
			if (a < lo) lo = a;
			if (a + sz > hi) hi = a + sz;
		}
	}
	double elapsed = now_ns() - t0;

	uint64_t footprint = lo == UINTPTR_MAX ? 0 : (uint64_t)(hi - lo);
	printf("{\"ops\":%zu,\"totalOps\":%zu,\"elapsedMs\":%.3f,\"nsPerOp\":%.3f,"
	       "\"peakLiveBytes\":%llu,\"footprintBytes\":%llu,\"fragmentation\":%.6f,"
	       "\"liveObjects\":%llu,\"liveBytes\":%llu,\"noMmap\":%s,\"mallopt\":%d,\"libc\":\"glibc %s\"",
	       i, n, elapsed / 1e6, i == 0 ? 0.0 : elapsed / (double)i, (unsigned long long)peak,
	       (unsigned long long)footprint, peak == 0 ? 0.0 : (double)footprint / (double)peak - 1.0,
	       (unsigned long long)live_objects, (unsigned long long)live_bytes, no_mmap ? "true" : "false", mmap_set,
	       gnu_get_libc_version());
	if (failed >= 0) {
		printf(",\"failedAt\":{\"op\":%ld,\"size\":%llu,\"id\":%u}", failed, (unsigned long long)size[failed],
		       id[failed]);
	}
	printf("}\n");
	return 0;
}
