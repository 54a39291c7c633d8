/**
 * Tests for src/wasm.ts: the C semantics of each import, called directly on
 * a heap over a WebAssembly.Memory, then the example C program
 * (examples/wasm-c) built for wasm32 and run on heapfit, whose output must
 * equal the same program built natively with gcc.
 *
 * The example needs clang, wasm-ld and gcc. Without them its tests skip,
 * except under CI (`process.env.CI` set), where they fail and say what to
 * install.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GROW, startProgram } from '../examples/wasm-c/program.js';
import { Heap, HeapError } from '../src/index.js';
import { WASM_EINVAL, WASM_ENOMEM, wasmImports } from '../src/wasm.js';
import { assertBytesUnchanged, snapshot } from './support/bytes.js';

const PAGE = 65536;

/** A heap over pages 1.. of a fresh 4-page memory (page 0 stands in for the module's own data). */
function setup(pages = 4) {
	const memory = new WebAssembly.Memory({ initial: pages });
	const heap = new Heap({ memory, offset: PAGE });
	return { memory, heap, c: wasmImports(heap) };
}

/** The u32 at `addr` of the heap's current buffer. */
const u32At = (heap: Heap, addr: number) => new DataView(heap.buffer).getUint32(addr, true);

/** The wasm view of a u32 argument or result: the same bits as a signed i32. */
const i32 = (n: number) => n | 0;

function sound(heap: Heap): void {
	assert.deepEqual(heap.check(), []);
}

describe('wasmImports', () => {
	test('the errno values are WASI numbering', () => {
		assert.equal(WASM_EINVAL, 28);
		assert.equal(WASM_ENOMEM, 48);
	});

	test('malloc: 8-aligned, malloc(0) is unique, sizes are read as u32', () => {
		const { heap, c } = setup();
		const p = c.malloc(100);
		assert.ok(p > PAGE && p % 8 === 0);
		const z1 = c.malloc(0);
		const z2 = c.malloc(0);
		assert.ok(z1 !== 0 && z2 !== 0 && z1 !== z2);
		// -1 as an i32 is SIZE_MAX: too large, so NULL rather than an error.
		assert.equal(c.malloc(-1), 0);
		assert.equal(c.malloc(i32(0x8000_0000)), 0);
		for (const q of [p, z1, z2]) c.free(q);
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('free(0) is a no-op; a bad free throws HeapError and leaves the heap as it was', () => {
		const { heap, c } = setup();
		c.free(0);
		const p = c.malloc(40);
		c.free(p);
		const before = snapshot(heap);
		assert.throws(
			() => c.free(p),
			(e) => e instanceof HeapError && e.code === 'DOUBLE_FREE',
		);
		assert.throws(
			() => c.free(p + 8),
			(e) => e instanceof HeapError,
		);
		assert.throws(
			() => c.free(-8),
			(e) => e instanceof HeapError && e.code === 'INVALID_POINTER',
		);
		assertBytesUnchanged(heap, before, 'the bad frees');
		sound(heap);
	});

	test('calloc: zeroed even when the memory is reused; 0 bytes is a unique block; overflow is NULL', () => {
		const { heap, c } = setup();
		const dirty = c.malloc(256);
		new Uint8Array(heap.buffer, dirty, 256).fill(0xa5);
		c.free(dirty);
		const p = c.calloc(16, 16);
		assert.notEqual(p, 0);
		assert.ok(new Uint8Array(heap.buffer, p, 256).every((b) => b === 0));
		const z = c.calloc(0, 8);
		assert.notEqual(z, 0);
		// count × size ≥ 2^32 wraps in a naive C calloc; here it is NULL.
		assert.equal(c.calloc(0x10000, 0x10001), 0);
		assert.equal(c.calloc(-1, 2), 0);
		assert.equal(c.calloc(2, -1), 0);
		// Fits in 32 bits but not in the memory.
		assert.equal(c.calloc(0x1000, 0x1000), 0);
		c.free(p);
		c.free(z);
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('realloc: realloc(0, n) is malloc, contents kept, failure keeps the old block', () => {
		const { heap, c } = setup();
		const p = c.realloc(0, 20);
		assert.notEqual(p, 0);
		const bytes = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
		new Uint8Array(heap.buffer, p, 20).set(bytes);
		c.malloc(8); // so that p cannot grow in place
		const q = c.realloc(p, 5000);
		assert.notEqual(q, 0);
		assert.deepEqual(new Uint8Array(heap.buffer, q, 20), bytes);
		assert.equal(c.realloc(q, -1), 0);
		assert.equal(c.realloc(q, 1 << 30), 0);
		assert.deepEqual(new Uint8Array(heap.buffer, q, 20), bytes);
		assert.ok(heap.usableSize(q) >= 5000);
		const r = c.realloc(q, 10);
		assert.deepEqual(new Uint8Array(heap.buffer, r, 10), bytes.subarray(0, 10));
		assert.throws(
			() => c.realloc(p === q ? p + 8 : p, 10),
			(e) => e instanceof HeapError,
		);
		sound(heap);
	});

	test('realloc(p, 0) returns p, still live and still to be freed', () => {
		const { heap, c } = setup();
		const p = c.malloc(1000);
		const live = heap.stats().liveBlocks;
		assert.equal(c.realloc(p, 0), p);
		assert.equal(heap.stats().liveBlocks, live);
		assert.ok(heap.usableSize(p) < 1000);
		c.free(p);
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('aligned_alloc: aligned for every power of two; a bad alignment is NULL, not an error', () => {
		const { heap, c } = setup();
		const ptrs: number[] = [];
		for (let align = 1; align <= 8192; align *= 2) {
			const p = c.aligned_alloc(align, 100);
			assert.ok(p !== 0 && p % align === 0, `align ${align}: ${p}`);
			ptrs.push(p);
		}
		for (const bad of [0, 3, 24, 4097, -1]) assert.equal(c.aligned_alloc(bad, 16), 0, `align ${bad}`);
		// 2 GiB is a valid alignment that this memory cannot satisfy.
		assert.equal(c.aligned_alloc(i32(0x8000_0000), 16), 0);
		// A block from aligned_alloc keeps its alignment when realloc moves it.
		c.malloc(8);
		const moved = c.realloc(ptrs[ptrs.length - 1], 20000);
		assert.equal(moved % 8192, 0);
		ptrs[ptrs.length - 1] = moved;
		for (const p of ptrs) c.free(p);
		sound(heap);
	});

	test('posix_memalign: writes the pointer through memptr and returns 0', () => {
		const { heap, c } = setup();
		const memptr = 64; // in "the module's data", below the heap
		for (const align of [4, 8, 16, 64, 4096]) {
			new DataView(heap.buffer).setUint32(memptr, 0xdeadbeef, true);
			assert.equal(c.posix_memalign(memptr, align, 48), 0);
			const p = u32At(heap, memptr);
			assert.ok(p !== 0 && p % align === 0, `align ${align}: ${p}`);
			assert.ok(heap.usableSize(p) >= 48);
			c.free(p);
		}
		// size 0: a unique live block.
		assert.equal(c.posix_memalign(memptr, 16, 0), 0);
		const z = u32At(heap, memptr);
		assert.notEqual(z, 0);
		c.free(z);
		// memptr inside a heap block, unaligned: written byte by byte, little-endian.
		const box = c.malloc(16);
		assert.equal(c.posix_memalign(box + 1, 32, 8), 0);
		const p = new DataView(heap.buffer).getUint32(box + 1, true);
		assert.equal(p % 32, 0);
		c.free(p);
		c.free(box);
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('posix_memalign: EINVAL for an alignment that is not a power-of-two multiple of 4, memptr untouched', () => {
		const { heap, c } = setup();
		const memptr = 128;
		for (const bad of [0, 1, 2, 3, 6, 12, 24, 100, -4]) {
			new DataView(heap.buffer).setUint32(memptr, 0x12345678, true);
			assert.equal(c.posix_memalign(memptr, bad, 16), WASM_EINVAL, `align ${bad}`);
			assert.equal(u32At(heap, memptr), 0x12345678);
		}
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('posix_memalign: ENOMEM when nothing fits, memptr untouched', () => {
		const { heap, c } = setup();
		const memptr = 256;
		new DataView(heap.buffer).setUint32(memptr, 7, true);
		assert.equal(c.posix_memalign(memptr, 16, 1 << 20), WASM_ENOMEM);
		assert.equal(c.posix_memalign(memptr, 16, -1), WASM_ENOMEM);
		assert.equal(c.posix_memalign(memptr, i32(0x8000_0000), 8), WASM_ENOMEM);
		assert.equal(u32At(heap, memptr), 7);
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('posix_memalign: a NULL, out-of-memory or heap-metadata memptr traps before anything is allocated', () => {
		const { memory, heap, c } = setup();
		// NULL, past the end, and into the heap's own root (which would corrupt it).
		for (const memptr of [0, memory.buffer.byteLength - 3, memory.buffer.byteLength, -4, heap.regionStart, heap.regionStart + 64]) {
			assert.throws(
				() => c.posix_memalign(memptr, 16, 16),
				(e) => e instanceof HeapError && e.code === 'INVALID_POINTER' && e.op === 'posix_memalign',
				`memptr ${memptr}`,
			);
		}
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});

	test('posix_memalign writes into the current buffer after the heap grows the memory', (t) => {
		const memory = new WebAssembly.Memory({ initial: 2 });
		let heap: Heap;
		try {
			heap = new Heap({ memory, offset: PAGE, grow: true });
		} catch (e) {
			t.skip(`this build cannot grow a heap (${(e as Error).message})`);
			return;
		}
		const c = wasmImports(heap);
		const status = c.posix_memalign(8, 64, 4 * PAGE);
		if (status === WASM_ENOMEM && memory.buffer.byteLength === 2 * PAGE) {
			t.skip('this build does not grow the memory yet');
			return;
		}
		assert.equal(status, 0);
		assert.ok(memory.buffer.byteLength > 2 * PAGE);
		assert.equal(heap.buffer, memory.buffer);
		const p = new DataView(memory.buffer).getUint32(8, true);
		assert.ok(p !== 0 && p % 64 === 0);
		c.free(p);
		sound(heap);
	});
});

// ─── The example program ───────────────────────────────────────────────

const EXAMPLE = fileURLToPath(new URL('../examples/wasm-c/', import.meta.url));
const SCALE = 1;

/** The first of `tools` not on PATH, or null. */
function missingTool(tools: string[]): string | null {
	for (const tool of tools) {
		if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return tool;
	}
	return null;
}

/**
 * Skips the test (or, under CI, fails it) when a tool is missing; returns
 * whether the test may go on.
 */
function needTools(t: TestContext, tools: string[]): boolean {
	const missing = missingTool(tools);
	if (missing === null) return true;
	const message = `${missing} not found: the wasm example needs clang, wasm-ld and gcc (Debian: apt-get install -y clang lld gcc)`;
	if (process.env.CI) assert.fail(message);
	t.skip(message);
	return false;
}

let built: string | null = null;
after(() => {
	if (built !== null) rmSync(built, { recursive: true, force: true });
});
/** Builds the example into a temporary folder once; returns the folder. */
function build(): string {
	if (built !== null) return built;
	const out = mkdtempSync(join(tmpdir(), 'heapfit-wasm-c-'));
	const r = spawnSync(join(EXAMPLE, 'build.sh'), [out], { encoding: 'utf8' });
	assert.equal(r.status, 0, `build.sh failed:\n${r.stdout}${r.stderr}`);
	built = out;
	return out;
}

const nativeRuns = new Map<string, string[]>();
/** What the native build in `dir` prints at `scale` (run once per build and scale). */
function nativeLines(dir: string, scale: number): string[] {
	const key = `${dir}:${scale}`;
	const known = nativeRuns.get(key);
	if (known !== undefined) return known;
	const r = spawnSync(join(dir, 'workload-native'), [String(scale)], { encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	const lines = r.stdout.trimEnd().split('\n');
	nativeRuns.set(key, lines);
	return lines;
}

describe('the wasm-c example', () => {
	test('on heapfit it prints what the native build prints, and the heap is clean afterwards', (t) => {
		if (!needTools(t, ['clang', 'wasm-ld', 'gcc'])) return;
		const dir = build();
		const program = startProgram(readFileSync(join(dir, 'workload.wasm')));
		const startBytes = program.memory.buffer.byteLength;
		const sum = program.run(SCALE);
		assert.deepEqual(program.lines, nativeLines(dir, SCALE));
		assert.match(program.lines.at(-1) ?? '', new RegExp(`^total scale=${SCALE} sum=${sum.toString(16).padStart(8, '0')}$`));
		assert.ok(program.lines.some((l) => l.startsWith('churn ') && l.includes(' errors=0 ')));
		assert.ok(program.lines.some((l) => l.startsWith('aligned ') && l.includes(' misaligned=0 ')));
		const heap = program.heap as Heap;
		assert.equal(heap.regionStart >= program.layout.heapBase, true);
		assert.deepEqual(heap.check(), []);
		assert.equal(heap.stats().liveBlocks, 0);
		assert.ok(heap.stats().peakUsedBytes > 1 << 20);
		if (GROW) assert.ok(program.memory.buffer.byteLength > startBytes, 'the memory should have grown during the run');
	});

	test('run.ts prints exactly the program output on stdout and exits 0', (t) => {
		if (!needTools(t, ['clang', 'wasm-ld', 'gcc'])) return;
		const dir = build();
		const r = spawnSync(process.execPath, ['--import', 'tsx', join(EXAMPLE, 'run.ts'), String(SCALE), join(dir, 'workload.wasm')], {
			encoding: 'utf8',
		});
		assert.equal(r.status, 0, r.stderr);
		assert.deepEqual(r.stdout.trimEnd().split('\n'), nativeLines(dir, SCALE));
		assert.match(r.stderr, /check\(\) \[\] \(sound\)/);
	});

	test('the dlmalloc build (bench peer) prints the same', (t) => {
		if (!needTools(t, ['clang', 'wasm-ld', 'gcc'])) return;
		const dir = build();
		const wasm = join(dir, 'workload-dlmalloc.wasm');
		if (!existsSync(wasm)) {
			t.skip('wasi-libc is not installed (only bench/wasm.ts needs it)');
			return;
		}
		const program = startProgram(readFileSync(wasm), { allocator: 'linked', heapBytes: 16 << 20 });
		program.run(SCALE);
		assert.deepEqual(program.lines, nativeLines(dir, SCALE));
	});
});
