/**
 * run.ts: runs the example C program, compiled to wasm32, with heapfit as
 * its malloc, and prints what it prints.
 *
 *   examples/wasm-c/build.sh
 *   node --import tsx examples/wasm-c/run.ts [scale] [path/to/workload.wasm]
 *
 * stdout is exactly the program's output (compare it with
 * `examples/wasm-c/build/workload-native [scale]`); the heap's figures and
 * the `check()` result go to stderr. Exits with status 1 when `check()`
 * finds a broken invariant or blocks are still live.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProgram } from './program.js';

const here = dirname(fileURLToPath(import.meta.url));
const scale = Number(process.argv[2] ?? '1');
const wasmPath = process.argv[3] ?? join(here, 'build', 'workload.wasm');
if (!Number.isInteger(scale) || scale < 1) {
	console.error(`usage: run.ts [scale ≥ 1] [workload.wasm]; got scale ${process.argv[2]}`);
	process.exit(2);
}

const program = startProgram(readFileSync(wasmPath), { onLine: (line) => console.log(line) });
const heap = program.heap!;
const start = performance.now();
program.run(scale);
const ms = performance.now() - start;

const stats = heap.stats();
const violations = heap.check();
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.error(
	`heapfit: ${ms.toFixed(0)} ms, heap from ${program.layout.heapBase} to ${heap.regionEnd} (${mib(stats.regionBytes)}), ` +
		`memory ${mib(program.memory.buffer.byteLength)}, peak used ${mib(stats.peakUsedBytes)}, ` +
		`live blocks at exit ${stats.liveBlocks}, check() ${violations.length === 0 ? '[] (sound)' : JSON.stringify(violations)}`,
);
if (violations.length !== 0 || stats.liveBlocks !== 0) process.exit(1);
