/**
 * main.ts: a pool of 4 workers builds one word-count hash table in one
 * shared heap, then takes it apart again (see README.md).
 *
 *   node --import tsx examples/shared-workers/main.ts      (npm run example:shared)
 *
 * stdout depends only on the fixed input, never on how the workers
 * interleave; per-worker figures and timings go to stderr. Exits with
 * status 1 when any check fails.
 */
import { Worker } from 'node:worker_threads';
import { Heap } from '../../src/index.js';
import { Table } from './table.js';
import type { Command, Removed, WorkerData } from './worker.js';

const WORKERS = 4;
const TOKENS = 100_000; // words in the input text
const VOCABULARY = 20_000; // words it is drawn from, the k-th with odds ∝ 1/k
const RARE = 3; // phase 2 deletes every word seen fewer times than this

// ─── Fixed input: words from a seeded PRNG ──────────────────────────────
function mulberry32(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
	};
}
const rng = mulberry32(42);
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'zu', 'pe', 'dra', 'fen', 'bo', 'gu', 'ish', 'tor'];
const vocabulary = Array.from({ length: VOCABULARY }, () => {
	let w = '';
	for (let n = 2 + Math.floor(rng() * 3); n > 0; n--) w += SYLLABLES[Math.floor(rng() * SYLLABLES.length)];
	return w;
});
const text = Array.from({ length: TOKENS }, () => vocabulary[Math.floor((VOCABULARY + 1) ** rng()) - 1]);
/** The answer, counted here in plain JS, to check the shared table against. */
const expected = new Map<string, number>();
for (const w of text) expected.set(w, (expected.get(w) ?? 0) + 1);

// ─── Checks ─────────────────────────────────────────────────────────────
let failures = 0;
function verify(ok: boolean, what: string): void {
	if (!ok) {
		failures++;
		console.log(`  FAILED: ${what}`);
	}
}
function sameEntries(a: Map<string, number>, b: Map<string, number>): boolean {
	return a.size === b.size && [...a].every(([w, c]) => b.get(w) === c);
}
const fmt = (n: number) => n.toLocaleString('en-US');

// ─── The shared heap, the table in it, the pool ─────────────────────────
const sab = new SharedArrayBuffer(4 << 20);
const heap = new Heap({ buffer: sab }); // formats the heap; workers attach to it
const table = Table.create(heap); // lock words + bucket heads: one heap block
const started = performance.now();
setTimeout(() => (console.error('timed out'), process.exit(1)), 60_000).unref(); // never hang a test

const pool = Array.from({ length: WORKERS }, (_, index) => {
	const workerData: WorkerData = { sab, table: table.ptr, index, workers: WORKERS };
	// boot.mjs registers tsx in the worker and imports worker.ts (see there why).
	const worker = new Worker(new URL('./boot.mjs', import.meta.url), { workerData });
	worker.on('error', (e) => {
		console.error(`worker ${index} failed:`, e);
		process.exit(1);
	});
	return worker;
});
// Each worker says 'ready' once attached; waiting for all of them makes the
// phases below start in every worker at the same moment.
await Promise.all(pool.map((w) => new Promise((resolve) => w.once('message', resolve))));
const exited = pool.map((w) => new Promise<number>((resolve) => w.once('exit', resolve)));

/** Sends command `cmd(i)` to worker i, all at once; resolves with every reply. */
function phase<Reply>(cmd: (i: number) => Command): Promise<Reply[]> {
	return Promise.all(
		pool.map((w, i) => {
			const reply = new Promise<Reply>((resolve) => w.once('message', resolve));
			w.postMessage(cmd(i));
			return reply;
		}),
	);
}
/** The i-th of `WORKERS` round-robin shares of `items`. */
const share = <T>(items: T[], i: number) => items.filter((_, k) => k % WORKERS === i);

// Phase 1: the workers count the text together; a word's node and key are
// allocated by whichever worker meets it first.
const added = await phase<{ created: number }>((i) => ({ op: 'add', words: share(text, i) }));
let seen = table.entries();
let s = heap.stats();
console.log(`phase 1: ${WORKERS} workers counted ${fmt(TOKENS)} words: ${fmt(seen.size)} distinct, ${fmt(s.liveBlocks)} live blocks`);
verify(sameEntries(seen, expected), 'the table holds exactly the expected counts');
verify(s.liveBlocks === 2 * expected.size + 1, 'a node and a key per word, plus the table');
const top = [...seen].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).slice(0, 8);
console.log(`  top ${top.length}: ${top.map(([w, c]) => `${w} ${fmt(c)}`).join(', ')}`);
console.error(`  usedBytes ${fmt(s.usedBytes)}; new nodes per worker: ${added.map((r) => r.created).join(', ')}`);

// Phase 2: the workers delete the rare words, each a round-robin share of
// them, so most nodes are freed by a worker other than the one that made them.
const rare = [...expected].filter(([, c]) => c < RARE).map(([w]) => w).sort();
for (const w of rare) expected.delete(w);
const removed = await phase<Removed>((i) => ({ op: 'remove', words: share(rare, i) }));
seen = table.entries();
s = heap.stats();
console.log(`phase 2: deleted ${fmt(rare.length)} words seen fewer than ${RARE} times: ${fmt(seen.size)} left, ${fmt(s.liveBlocks)} live blocks`);
verify(removed.reduce((n, r) => n + r.removed, 0) === rare.length, 'every rare word was found and freed');
verify(sameEntries(seen, expected), 'the other counts are untouched');
verify(s.liveBlocks === 2 * expected.size + 1, 'the deleted nodes and keys went back to the heap');
console.error(`  freed per worker: ${removed.map((r) => `${r.removed} (${r.foreign} made by another worker)`).join(', ')}`);

// Phase 3: each worker frees every node in its stripe of buckets, then gives
// its thread cache back to the heap and exits.
const cleared = await phase<Removed>(() => ({ op: 'clear' }));
verify(cleared.reduce((n, r) => n + r.removed, 0) === expected.size, 'clear freed every remaining word');
verify(table.entries().size === 0, 'the table is empty');
console.error(`  before releaseThreadCache: ${fmt(heap.stats().cachedBlocks)} blocks in thread caches`);
const released = await phase<{ released: number }>(() => ({ op: 'exit' }));
verify((await Promise.all(exited)).every((code) => code === 0), 'every worker exited cleanly');
heap.free(table.ptr);
heap.releaseThreadCache(); // main's own Heap object has a thread cache too
console.error(`  released from worker caches: ${released.map((r) => r.released).join(', ')}`);

s = heap.stats();
const problems = heap.check();
console.log(`phase 3: workers cleared the table and released their caches; main freed the table`);
console.log(`  stats: usedBytes ${s.usedBytes}, liveBlocks ${s.liveBlocks}, cachedBlocks ${s.cachedBlocks}, freeBlocks ${s.freeBlocks}`);
console.log(`  check(): ${problems.length === 0 ? '[] (sound)' : JSON.stringify(problems)}`);
verify(problems.length === 0, 'check() finds nothing wrong');
verify(s.usedBytes === 0 && s.liveBlocks === 0 && s.cachedBlocks === 0, 'every byte is back');
verify(s.freeBlocks === 1 && s.largestFreeBlock === s.freeBytes, 'the free space coalesced into one block');
console.error(`heapfit: ${(performance.now() - started).toFixed(0)} ms, peak used ${fmt(s.peakUsedBytes)} bytes`);
console.log(failures === 0 ? 'ok' : `${failures} check(s) failed`);
if (failures !== 0) process.exitCode = 1;
