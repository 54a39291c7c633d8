/**
 * fuzz.test.ts: rlsf-style program tests. Random bytes decode into a
 * program of alloc / free / realloc / alignedAlloc steps, which runs against
 * a shadow map of live ranges over a matrix of heap configurations:
 *
 * ```
 *  buffer      ArrayBuffer | SharedArrayBuffer
 *  offset      0 | 8 | 4100 (rounded up to 4104), length ≢ 0 (mod 8)
 *  blocks      2 KiB | 16 KiB | 128 KiB | 1 MiB   (bytes past the root/tables)
 *  debug       0 | 3
 *  cache       on | off (ArrayBuffer: the heap's cache; SharedArrayBuffer: always on, 2 thread slots)
 *  reopened    mid-program with Heap.attach on the same buffer or a copy
 * ```
 * Every byte of the buffer outside the region is a canary that must survive.
 * A deterministic long run (seeded PRNG, 50k steps, heavy-tailed sizes)
 * closes the file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Heap, layout } from '../src/index.js';
import { mulberry32 } from './support/rng.js';
import { alignedNeed, mostUsable, patternStamps, STAMP_SPAN } from './support/model.js';

const { blockSizeFor, HEADER_BYTES, TABLES_BYTES } = layout;

// ─── Stamps ─────────────────────────────────────────────────────────────

const MAX_REGION = 1024 * 1024 + 64 * 1024;
/** A block with stamp s holds the pattern's bytes [s, s + size). */
const { fill: stampBlock, intact: stampIntact } = patternStamps(MAX_REGION, 0x2545f491);
const CANARY = 0xa5;

// ─── Programs ─────────────────────────────────────────────────────────────

type Op =
	| { k: 'alloc'; size: number }
	| { k: 'free'; idx: number }
	| { k: 'realloc'; idx: number; size: number }
	| { k: 'reallocNull'; size: number }
	| { k: 'aligned'; alignLog: number; size: number };

/**
 * Decodes bytes into a program. One opcode byte, then its operands; a size
 * is a 24-bit number shifted right by 0..23 bits (log-uniform, 0 .. 16 MiB),
 * so most requests are small and a few exceed any heap here.
 */
function decode(bytes: Uint8Array): Op[] {
	let i = 0;
	const next = () => (i < bytes.length ? bytes[i++] : 0);
	const size = () => {
		const raw = next() | (next() << 8) | (next() << 16);
		return raw >>> (next() % 24);
	};
	const ops: Op[] = [];
	while (i < bytes.length) {
		const op = next() % 16;
		if (op < 5) ops.push({ k: 'alloc', size: size() });
		else if (op < 9) ops.push({ k: 'free', idx: next() });
		else if (op < 12) ops.push({ k: 'realloc', idx: next(), size: size() });
		else if (op === 12) ops.push({ k: 'realloc', idx: next(), size: 0 });
		else if (op === 13) ops.push({ k: 'reallocNull', size: size() });
		else ops.push({ k: 'aligned', alignLog: next() % 17, size: size() });
	}
	return ops;
}

function opText(op: Op): string {
	switch (op.k) {
		case 'alloc':
			return `malloc(${op.size})`;
		case 'free':
			return `free(live[${op.idx}])`;
		case 'realloc':
			return `realloc(live[${op.idx}], ${op.size})`;
		case 'reallocNull':
			return `realloc(0, ${op.size})`;
		case 'aligned':
			return `alignedAlloc(${2 ** op.alignLog}, ${op.size})`;
	}
}

// ─── Configurations ────────────────────────────────────────────────────────

interface Config {
	shared: boolean;
	offset: number;
	/** Bytes of blocks wanted beyond the root, tables and bitmap. */
	blocks: number;
	debug: 0 | 3;
	/** The small-block cache: a thread cache per slot when shared, the heap's own cache when not. */
	cache: boolean;
}
type Reopen = 'same' | 'copy';
/** Thread slots of the shared configurations: the caches are exercised too. */
const THREADS = 2;
const { SLOT_WORDS } = layout;

/** Region length for `blocks` bytes of blocks; never a multiple of 8, so the end is rounded. */
function regionLength(blocks: number): number {
	// One bitmap bit per 8 bytes of everything after the tables, bitmap included.
	const bitmap = Math.ceil(blocks / 63) + 64;
	return TABLES_BYTES + bitmap + 32 + blocks + 5;
}
function describeConfig(c: Config): string {
	const kb = c.blocks >= 1024 * 1024 ? `${c.blocks / 1024 / 1024} MiB` : `${c.blocks / 1024} KiB`;
	return `${c.shared ? 'SharedArrayBuffer' : 'ArrayBuffer'}, offset ${c.offset}, ${kb} of blocks, debug ${c.debug}${c.cache ? '' : ', no cache'}`;
}

// ─── The shadow runner ────────────────────────────────────────────────────

interface Entry {
	size: number;
	/** Alignment the block must keep, also across a moving realloc. */
	align: number;
	stamp: number;
}

/** A program run against a heap and a shadow of its live blocks. */
class Runner {
	buffer: ArrayBuffer | SharedArrayBuffer;
	heap: Heap;
	/** Heap objects from before a reopen on the same buffer; they must agree. */
	readonly earlier: Heap[] = [];
	readonly live = new Map<number, Entry>();
	/** Live pointers in allocation order; `idx % length` picks one. */
	readonly order: number[] = [];
	stamps = 0;
	ooms = 0;
	readonly regionStart: number;
	readonly regionEnd: number;
	readonly initial: { largest: number; free: number };

	constructor(readonly cfg: Config) {
		// A heap with a cache also holds a thread table (its first block): THREADS
		// slots when shared, one when not.
		const slots = cfg.cache ? (cfg.shared ? THREADS : 1) : 0;
		const length = regionLength(cfg.blocks) + (slots === 0 ? 0 : blockSizeFor(slots * SLOT_WORDS * 4));
		const total = cfg.offset + length + 32;
		this.buffer = cfg.shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
		new Uint8Array(this.buffer).fill(CANARY);
		this.heap = new Heap({ buffer: this.buffer, offset: cfg.offset, length, debug: cfg.debug, cache: cfg.cache, threads: cfg.shared ? THREADS : undefined });
		this.regionStart = Math.ceil(cfg.offset / 8) * 8;
		this.regionEnd = Math.floor((cfg.offset + length) / 8) * 8;
		assert.equal(this.heap.regionStart, this.regionStart, 'regionStart is not the offset rounded up to 8');
		assert.equal(this.heap.regionEnd, this.regionEnd, 'regionEnd is not offset + length rounded down to 8');
		assert.equal(this.heap.buffer, this.buffer);
		const s = this.heap.stats();
		assert.equal(s.freeBlocks, 1);
		assert.ok(s.largestFreeBlock >= cfg.blocks, `only ${s.largestFreeBlock} bytes of blocks, wanted ${cfg.blocks}`);
		this.initial = { largest: s.largestFreeBlock, free: s.freeBytes };
		this.checkCanaries();
	}

	/** Re-opens the heap with Heap.attach, on the same buffer or on a copy of it. */
	reopen(how: Reopen): void {
		const before = this.heap.stats();
		if (how === 'copy') {
			const copy = this.cfg.shared ? new SharedArrayBuffer(this.buffer.byteLength) : new ArrayBuffer(this.buffer.byteLength);
			new Uint8Array(copy).set(new Uint8Array(this.buffer));
			this.buffer = copy;
			this.earlier.length = 0;
		} else {
			this.earlier.push(this.heap);
		}
		this.heap = Heap.attach(this.buffer, this.cfg.offset, { debug: this.cfg.debug });
		assert.equal(this.heap.buffer, this.buffer);
		assert.equal(this.heap.regionStart, this.regionStart);
		assert.equal(this.heap.regionEnd, this.regionEnd);
		assert.deepEqual(this.heap.stats(), before, 'the attached heap reports different stats');
		this.verifyAll();
	}

	private adopt(ptr: number, size: number, align: number, what: string): void {
		assert.ok(!this.live.has(ptr), `${what} returned ${ptr}, which is already live`);
		this.stamps++;
		const stamp = (this.stamps * 613) % STAMP_SPAN;
		stampBlock(this.buffer, ptr, size, stamp);
		this.live.set(ptr, { size, align, stamp });
		this.order.push(ptr);
		this.checkNew(ptr, what);
	}

	private drop(ptr: number): void {
		this.live.delete(ptr);
		const i = this.order.indexOf(ptr);
		this.order[i] = this.order[this.order.length - 1];
		this.order.pop();
	}

	/** A new (or moved) block: bounds, alignment, usable size, no overlap. */
	private checkNew(ptr: number, what: string): void {
		const e = this.live.get(ptr) as Entry;
		assert.ok(ptr % 8 === 0 && ptr % e.align === 0, `${what}: ${ptr} is not ${Math.max(8, e.align)}-aligned`);
		assert.ok(ptr >= this.regionStart && ptr + e.size <= this.regionEnd, `${what}: [${ptr}, +${e.size}) is outside the region`);
		const usable = this.heap.usableSize(ptr);
		assert.ok(usable >= e.size, `${what}: usableSize ${usable} < ${e.size}`);
		// At most one unsplittable remainder (< MIN_BLOCK) and an align trailer beyond the rounded size.
		// A heap with a cache serves a cached size from its cache class, whose
		// list holds blocks up to the next class's size (layout.ts).
		const most = mostUsable(e.size, this.cfg.cache);
		assert.ok(usable <= most + 8, `${what}: usableSize ${usable} wastes too much for ${e.size}`);
		const lo = ptr - HEADER_BYTES;
		const hi = ptr + usable;
		for (const [q, f] of this.live) {
			if (q === ptr) continue;
			// Whole blocks [header, usable end) must be disjoint, not just the requested ranges.
			const qlo = q - HEADER_BYTES;
			const qhi = q + f.size;
			assert.ok(hi <= qlo || qhi <= lo, `${what}: block ${ptr} (usable ${usable}) overlaps live block ${q} (size ${f.size})`);
		}
	}

	/** Cheap invariants after every step. */
	verifyCheap(): void {
		const s = this.heap.stats();
		assert.equal(s.liveBlocks, this.live.size, 'stats().liveBlocks disagrees with the shadow');
		assert.equal(s.usedBytes + s.freeBytes + s.overheadBytes + s.cachedBytes, s.regionBytes);
		assert.equal(s.regionBytes, this.regionEnd - this.regionStart);
		assert.ok(s.largestFreeBlock <= s.freeBytes);
	}

	/** Every invariant: heap.check(), the walk, every live block's bytes. */
	verifyAll(): void {
		this.verifyCheap();
		assert.deepEqual(this.heap.check(), []);
		const allocated = [...this.heap.blocks()].filter((b) => !b.free && !b.internal && !b.cached);
		const ptrs = [...this.live.keys()].sort((a, b) => a - b);
		assert.deepEqual(allocated.map((b) => b.ptr), ptrs, 'the walker disagrees with the shadow');
		let prevEnd = this.regionStart;
		let used = 0;
		for (const ptr of ptrs) {
			const e = this.live.get(ptr) as Entry;
			const usable = this.heap.usableSize(ptr);
			assert.ok(ptr - HEADER_BYTES >= prevEnd, `block ${ptr} overlaps the block before it`);
			prevEnd = ptr + usable;
			used += usable;
			assert.ok(stampIntact(this.buffer, ptr, e.size, e.stamp), `block ${ptr} (size ${e.size}) lost its contents`);
		}
		assert.ok(prevEnd <= this.regionEnd);
		// USED_BYTES is Σ (blockSize − 4); an aligned block's trailer word is in it but not usable.
		const usedBytes = this.heap.stats().usedBytes;
		assert.equal(usedBytes, allocated.reduce((n, b) => n + b.size - HEADER_BYTES, 0));
		assert.ok(used <= usedBytes && usedBytes - used <= 4 * allocated.filter((b) => b.aligned).length);
		for (const h of this.earlier) assert.deepEqual(h.stats(), this.heap.stats(), 'a heap attached earlier to the same buffer disagrees');
	}

	checkCanaries(): void {
		const u8 = new Uint8Array(this.buffer);
		for (let i = 0; i < this.regionStart; i++) assert.equal(u8[i], CANARY, `byte ${i} before the region was written`);
		for (let i = this.regionEnd; i < u8.length; i++) assert.equal(u8[i], CANARY, `byte ${i} after the region was written`);
	}

	pick(idx: number): number {
		return this.order[idx % this.order.length];
	}

	step(op: Op): void {
		const heap = this.heap;
		const what = opText(op);
		const largest = heap.stats().largestFreeBlock;
		const oom = (need: number) => {
			this.ooms++;
			assert.ok(largest < need, `${what} returned 0 although a free block of ${largest} ≥ ${need} bytes existed`);
		};
		switch (op.k) {
			case 'alloc':
			case 'reallocNull': {
				const ptr = op.k === 'alloc' ? heap.malloc(op.size) : heap.realloc(0, op.size);
				if (ptr === 0) oom(blockSizeFor(op.size));
				else this.adopt(ptr, op.size, 8, what);
				break;
			}
			case 'aligned': {
				const align = 2 ** op.alignLog;
				const ptr = heap.alignedAlloc(align, op.size);
				// For align > 8 the heap asks for need + align + 16; allow twice the slack.
				if (ptr === 0) oom(alignedNeed(op.size, align));
				else this.adopt(ptr, op.size, align > 8 ? align : 8, what);
				break;
			}
			case 'free': {
				if (this.order.length === 0) return;
				const ptr = this.pick(op.idx);
				const e = this.live.get(ptr) as Entry;
				assert.ok(stampIntact(this.buffer, ptr, e.size, e.stamp), `${what}: block ${ptr} lost its contents before free`);
				heap.free(ptr);
				this.drop(ptr);
				break;
			}
			case 'realloc': {
				if (this.order.length === 0) return;
				const p = this.pick(op.idx);
				const e = this.live.get(p) as Entry;
				const usable = heap.usableSize(p);
				const q = heap.realloc(p, op.size);
				if (q === 0) {
					this.ooms++;
					assert.ok(op.size > usable, `${what}: failed although it does not grow`);
					if (e.align <= 8) assert.ok(largest < blockSizeFor(op.size), `${what}: returned 0 with a free block of ${largest}`);
					assert.ok(stampIntact(this.buffer, p, e.size, e.stamp), `${what}: the failed realloc hurt the block`);
					break;
				}
				if (op.size <= usable) assert.equal(q, p, `${what}: moved a block it could shrink in place`);
				const keep = Math.min(e.size, op.size);
				assert.ok(stampIntact(this.buffer, q, keep, e.stamp), `${what}: ${p} → ${q} lost the first ${keep} bytes`);
				this.drop(p);
				this.adopt(q, op.size, e.align, what);
				break;
			}
		}
	}

	/** Frees everything: the heap must be one free block again, as at the start. */
	finish(): void {
		this.verifyAll();
		for (const ptr of [...this.order]) {
			this.heap.free(ptr);
			this.drop(ptr);
		}
		assert.deepEqual(this.heap.check(), []);
		// The cache keeps small freed blocks until asked.
		this.heap.flushCaches();
		assert.deepEqual(this.heap.check(), []);
		const s = this.heap.stats();
		assert.equal(s.liveBlocks, 0);
		assert.equal(s.usedBytes, 0);
		assert.equal(s.freeBlocks, 1, 'freeing everything must coalesce to one free block');
		assert.equal(s.largestFreeBlock, this.initial.largest);
		assert.equal(s.freeBytes, this.initial.free);
		this.checkCanaries();
	}
}

/** Runs `ops` on a fresh heap of `cfg`, re-opening it before step `attachAt`. */
function runProgram(cfg: Config, ops: Op[], attachAt: number, how: Reopen): Runner {
	const r = new Runner(cfg);
	const every = cfg.blocks <= 16 * 1024 ? 1 : cfg.blocks <= 128 * 1024 ? 4 : 16;
	let i = 0;
	try {
		for (; i < ops.length; i++) {
			if (i === attachAt) r.reopen(how);
			r.step(ops[i]);
			r.verifyCheap();
			if (i % every === 0) r.verifyAll();
		}
		r.finish();
	} catch (e) {
		const prog = ops.slice(0, i + 1).map((op, j) => `${j === attachAt ? `[attach ${how}] ` : ''}${opText(op)}`);
		const msg = e instanceof Error ? e.message : String(e);
		throw new Error(`${describeConfig(cfg)}: step ${i} failed: ${msg}\nprogram: ${prog.join('; ')}`, { cause: e });
	}
	return r;
}

// ─── Tests ──────────────────────────────────────────────────────────────

const BLOCKS = [2 * 1024, 16 * 1024, 128 * 1024, 1024 * 1024];
/** Program length and run count per block size, to keep the file well under a minute. */
const BUDGET: Record<number, { bytes: number; runs: number }> = {
	[2 * 1024]: { bytes: 600, runs: 200 },
	[16 * 1024]: { bytes: 900, runs: 150 },
	[128 * 1024]: { bytes: 1400, runs: 50 },
	[1024 * 1024]: { bytes: 2000, runs: 15 },
};

/**
 * Per-configuration time limit. A passing configuration takes well under a
 * second; the limit only bounds shrinking when a heap bug makes many of them
 * fail (the failure is still reported, with the counterexample shrunk so far).
 */
const TIME_LIMIT_MS = 2000;

describe('fuzz: decoded programs over a matrix of configurations', () => {
	for (const [shared, cache] of [[false, true], [false, false], [true, true]]) {
		for (const offset of [0, 8, 4100]) {
			for (const blocks of BLOCKS) {
				for (const debug of [0, 3] as const) {
					const cfg: Config = { shared, offset, blocks, debug, cache };
					const { bytes, runs } = BUDGET[blocks];
					test(describeConfig(cfg), () => {
						fc.assert(
							fc.property(
								fc.uint8Array({ maxLength: bytes, size: 'max' }),
								fc.nat(),
								fc.constantFrom<Reopen>('same', 'copy'),
								(data, at, how) => {
									const ops = decode(data);
									runProgram(cfg, ops, ops.length === 0 ? 0 : at % ops.length, how);
								},
							),
							{ numRuns: runs, includeErrorInReport: true, plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)] },
						);
					});
				}
			}
		}
	}

	test('a heap needs room for its root and tables: 2 KiB in all is too small', () => {
		assert.throws(() => new Heap({ size: 2048 }), { name: 'HeapError', code: 'INVALID_OPTIONS' });
		assert.ok(TABLES_BYTES > 2048);
	});

	test('the runner catches a scribble outside the region and a lost block (the test can fail)', () => {
		const cfg: Config = { shared: false, offset: 4100, blocks: 2048, debug: 0, cache: true };
		const r = runProgram(cfg, [{ k: 'alloc', size: 24 }], -1, 'same');
		new Uint8Array(r.buffer)[4101] = 0;
		assert.throws(() => r.checkCanaries(), /before the region/);
		const r2 = new Runner(cfg);
		r2.step({ k: 'alloc', size: 100 });
		r2.live.set(r2.order[0] + 8, { size: 8, align: 8, stamp: 0 });
		assert.throws(() => r2.verifyAll(), /disagrees|overlaps|lost/);
	});

	test('a program survives being re-opened (same buffer or a copy) at many different steps', () => {
		const bytes = new Uint8Array(400);
		let x = 12345;
		for (let i = 0; i < bytes.length; i++) {
			x = (x * 1103515245 + 12345) >>> 0;
			bytes[i] = x >>> 24;
		}
		const ops = decode(bytes);
		assert.ok(ops.length > 40);
		for (let at = 0; at < ops.length; at += 7) {
			runProgram({ shared: at % 2 === 0, offset: 4100, blocks: 16 * 1024, debug: 0, cache: at % 4 !== 1 }, ops, at, at % 3 === 0 ? 'same' : 'copy');
		}
	});
});

// ─── The long run ────────────────────────────────────────────────────────

describe('fuzz: deterministic long run', () => {
	test('50k steps, heavy-tailed sizes 1 B .. 64 KiB, on a 2 MiB heap', () => {
		const rand = mulberry32(0x5eed_f00d);
		/** Log-uniform in [1, 65536]: as many 1..2 B requests as 32..64 KiB ones. */
		const size = () => Math.min(65536, Math.floor(2 ** (rand() * 16.01)));
		const cfg: Config = { shared: false, offset: 8, blocks: 2 * 1024 * 1024 - 64 * 1024, debug: 0, cache: true };
		const r = new Runner(cfg);
		const STEPS = 50_000;
		let succeeded = 0;
		for (let i = 0; i < STEPS; i++) {
			const u = rand();
			const idx = Math.floor(rand() * 1e9);
			let op: Op;
			if (u < 0.42) op = { k: 'alloc', size: size() };
			else if (u < 0.76) op = { k: 'free', idx };
			else if (u < 0.9) op = { k: 'realloc', idx, size: size() };
			else if (u < 0.92) op = { k: 'realloc', idx, size: 0 };
			else if (u < 0.93) op = { k: 'reallocNull', size: size() };
			else op = { k: 'aligned', alignLog: Math.floor(rand() * 13), size: size() };
			const oomsBefore = r.ooms;
			try {
				r.step(op);
				r.verifyCheap();
				if (i % 5000 === 4999) r.verifyAll();
			} catch (e) {
				throw new Error(`long run, step ${i} (${opText(op)}): ${e instanceof Error ? e.message : e}`, { cause: e });
			}
			if (r.ooms === oomsBefore && op.k !== 'free') succeeded++;
		}
		r.verifyAll();
		// The run must have exercised both full and roomy phases.
		assert.ok(r.ooms > 200, `only ${r.ooms} out-of-memory results`);
		assert.ok(succeeded > 20_000, `only ${succeeded} successful allocations`);
		assert.ok(r.live.size > 50, `only ${r.live.size} blocks live at the end`);
		r.finish();
	});
});
