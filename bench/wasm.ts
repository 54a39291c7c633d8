/**
 * wasm.ts: the example C program (examples/wasm-c) compiled to wasm32, on
 * heapfit versus on an allocator linked into the module.
 *
 *   node --import tsx bench/wasm.ts [--runs 7] [--scale 10] [--heap-mib 256]
 *
 * The two modules are built from the same source by examples/wasm-c/build.sh
 * into bench/.cache/wasm-c:
 * - `heapfit`: malloc, free, calloc, realloc, aligned_alloc and
 *   posix_memalign are imports, served by `wasmImports(heap)`; every call
 *   crosses from wasm into JavaScript and back;
 * - `dlmalloc`: Debian's wasi-libc malloc (dlmalloc.o + sbrk.o from
 *   /usr/lib/wasm32-wasi/libc.a) linked into the module; no call leaves wasm.
 *
 * Two memory set-ups, each for both allocators: `fixed` (module pages +
 * `--heap-mib` from the start, nothing grows) and `growing` (one page above
 * the module's own; heapfit grows the memory with `grow: true`, dlmalloc
 * through sbrk).
 *
 * Method: each module is compiled once, and every variant is run once
 * untimed (the engines tier up). Then `--runs` rounds; each round runs all
 * four variants once, the order rotating from round to round, each on a
 * fresh instance over a fresh memory. The time of one run is `run(scale)`
 * alone. Reported: best and median per variant and, per set-up, the ratio of
 * the bests (heapfit ÷ dlmalloc, above 1: heapfit is slower), all from this
 * one process. The native gcc build is run as a separate process for the
 * output comparison, and its time (process start included) is shown for
 * reference only. All three outputs must be identical.
 *
 * Output: a markdown report on stdout and in bench/results/wasm.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProgram } from '../examples/wasm-c/program.js';
import type { WasmImports } from '../src/wasm.js';
import { parseCli, rotation } from './lib/cli.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, '..');
const OUT = join(BENCH, '.cache', 'wasm-c');

const OPTIONS = {
	runs: { type: 'string', default: '7', description: 'timed rounds; each runs all four variants once' },
	scale: { type: 'string', default: '10', description: "the program's run(scale) argument" },
	'heap-mib': { type: 'string', default: '256', description: 'MiB of heap above the module in the fixed set-up' },
	out: { type: 'string', default: join(BENCH, 'results', 'wasm.md'), description: 'markdown report file' },
	help: { type: 'boolean', default: false, description: 'print this help' },
} as const;

const { opt, fail } = parseCli('node --import tsx bench/wasm.ts [options]', OPTIONS, false);
const runs = Number(opt.runs);
const scale = Number(opt.scale);
const heapBytes = Number(opt['heap-mib']) * 2 ** 20;
for (const [name, n] of [['runs', runs], ['scale', scale], ['heap-mib', heapBytes]] as const) {
	if (!(Number.isInteger(n) && n > 0)) fail(`--${name}: expected a positive ${name === 'heap-mib' ? 'number of MiB' : 'integer'}, got ${JSON.stringify(opt[name])}`);
}

const build = spawnSync(join(REPO, 'examples/wasm-c/build.sh'), [OUT], { encoding: 'utf8' });
if (build.status !== 0) {
	console.error(`examples/wasm-c/build.sh failed:\n${build.stdout}${build.stderr}`);
	process.exit(1);
}
const dlPath = join(OUT, 'workload-dlmalloc.wasm');
if (!existsSync(dlPath)) {
	console.error('bench/wasm.ts: needs the wasi-libc package for the dlmalloc build (apt-get install -y wasi-libc)');
	process.exit(1);
}

type Name = 'heapfit' | 'dlmalloc';
type Mode = 'fixed' | 'growing';
const NAMES: Name[] = ['heapfit', 'dlmalloc'];
const MODES: Mode[] = ['fixed', 'growing'];
const bytes: Record<Name, Uint8Array<ArrayBuffer>> = {
	heapfit: readFileSync(join(OUT, 'workload.wasm')),
	dlmalloc: readFileSync(dlPath),
};
const modules = { heapfit: new WebAssembly.Module(bytes.heapfit), dlmalloc: new WebAssembly.Module(bytes.dlmalloc) };

interface Once {
	ms: number;
	lines: string[];
	/** Broken invariants plus live blocks after the run (heapfit only). */
	check: number;
	/** Memory size after the run. */
	memoryBytes: number;
}

/** One run on a fresh instance: its time in ms, its output, the memory it ended with. */
function once(name: Name, mode: Mode, wrap?: (i: WasmImports) => WasmImports): Once {
	const p = startProgram(bytes[name], {
		allocator: name === 'heapfit' ? 'heapfit' : 'linked',
		heapBytes,
		grow: mode === 'growing',
		module: modules[name],
		wrap,
	});
	const start = performance.now();
	p.run(scale);
	const ms = performance.now() - start;
	const check = p.heap === null ? 0 : p.heap.check().length + p.heap.stats().liveBlocks;
	return { ms, lines: p.lines, check, memoryBytes: p.memory.buffer.byteLength };
}

// Untimed: the output of each, the calls heapfit serves, a warm-up for all.
const calls: Record<string, number> = {};
const counted = once('heapfit', 'fixed', (imports) => {
	const out = {} as Record<string, (...args: number[]) => number | undefined>;
	for (const [name, fn] of Object.entries(imports) as [string, (...args: number[]) => number | undefined][]) {
		calls[name] = 0;
		out[name] = (...args) => {
			calls[name]++;
			return fn(...args);
		};
	}
	return out as unknown as WasmImports;
});
const warm = [once('dlmalloc', 'fixed'), once('heapfit', 'growing'), once('dlmalloc', 'growing')];
const native = spawnSync(join(OUT, 'workload-native'), [String(scale)], { encoding: 'utf8' });
const nativeLines = native.stdout.trimEnd().split('\n');
const same = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);
const outputsEqual = same(counted.lines, nativeLines) && warm.every((w) => same(w.lines, nativeLines));
const clean = counted.check === 0 && warm[1].check === 0;
if (!outputsEqual || !clean) {
	console.error('outputs differ or heap unsound:', { heapfit: counted.lines, others: warm.map((w) => w.lines), native: nativeLines });
	process.exit(1);
}

const key = (name: Name, mode: Mode) => `${name} ${mode}`;
const loadStart = os.loadavg()[0];
const times: Record<string, number[]> = {};
const memory: Record<string, number> = {};
const nativeMs: number[] = [];
// Every round runs all four; the order rotates so that none always goes first.
const order = MODES.flatMap((mode) => NAMES.map((name) => [name, mode] as const));
for (let r = 0; r < runs; r++) {
	for (const [name, mode] of rotation(order, r)) {
		const o = once(name, mode);
		(times[key(name, mode)] ??= []).push(o.ms);
		memory[key(name, mode)] = o.memoryBytes;
	}
	const t = performance.now();
	spawnSync(join(OUT, 'workload-native'), [String(scale)]);
	nativeMs.push(performance.now() - t);
}

const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const totalCalls = Object.values(calls).reduce((a, b) => a + b, 0);
const ratio = (mode: Mode) => best(times[key('heapfit', mode)]) / best(times[key('dlmalloc', mode)]);
const tool = (cmd: string, args: string[]) => {
	try {
		return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0].trim();
	} catch {
		return 'unknown';
	}
};
const fmt = (ms: number) => ms.toFixed(1);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const WHERE: Record<Name, string> = {
	heapfit: 'JavaScript, called through wasm imports',
	dlmalloc: 'linked into the module (wasi-libc)',
};
const row = (name: Name, mode: Mode) => {
	const xs = times[key(name, mode)];
	const r = name === 'heapfit' ? `**${ratio(mode).toFixed(2)}**` : '1.00';
	return `| ${name} | ${mode} | ${WHERE[name]} | ${fmt(best(xs))} | ${fmt(median(xs))} | ${r} | ${mib(memory[key(name, mode)])} |`;
};
const report = `# wasm: the example C program on heapfit vs wasi-libc's dlmalloc

Generated by \`node --import tsx bench/wasm.ts --runs ${runs} --scale ${scale} --heap-mib ${opt['heap-mib']}\`
on ${new Date().toISOString().slice(0, 10)}. Method: see the comment at the top of \`bench/wasm.ts\`.

| allocator | memory | where it runs | best ms | median ms | ÷ dlmalloc, same memory (best) | memory after the run |
|---|---|---|---:|---:|---:|---:|
${MODES.flatMap((mode) => NAMES.map((name) => row(name, mode))).join('\n')}
| glibc malloc, native gcc -O2 | — | separate process, start-up included; reference only | ${fmt(best(nativeMs))} | ${fmt(median(nativeMs))} | — | — |

- **fixed**: the memory is the module's own pages plus ${opt['heap-mib']} MiB from the start; heapfit
  is \`new Heap({ memory, offset: __heap_base })\`, dlmalloc takes the same pages
  above \`__heap_base\` as its first arena; nothing grows.
- **growing**: the memory starts one page above the module's own; heapfit is
  \`new Heap({ memory, offset: __heap_base, grow: true })\` and grows it with
  \`memory.grow\`, dlmalloc grows it through \`sbrk\`.
- ${runs} rounds; each round runs all four, in an order that rotates from round to
  round, each on a fresh instance and memory.
- Output of every build identical to the native one: ${outputsEqual ? 'yes' : 'NO'} (${counted.lines.length} lines);
  heapfit's \`check()\` after a run: ${clean ? '[] with no live blocks' : 'NOT clean'}.
- Allocator calls per run served by heapfit: ${totalCalls.toLocaleString('en-US')}
  (${Object.entries(calls)
		.map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
		.join(', ')}), so ${fmt((best(times[key('heapfit', 'fixed')]) * 1e6) / totalCalls)} ns of the fixed
  heapfit run per call, the program's own work included.
- Load average (1 min) ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, on
  ${os.cpus().length} cores: medians move with the load of the machine, the ratios use the bests.
- Node ${process.version} (V8 ${process.versions.v8}), ${tool('clang', ['--version'])},
  wasi-libc ${tool('dpkg-query', ['-W', '-f=${Version}', 'wasi-libc'])}, gcc ${tool('gcc', ['-dumpfullversion'])},
  ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.arch()}.

Program output (scale ${scale}):

\`\`\`
${counted.lines.join('\n')}
\`\`\`
`;
console.log(report);
mkdirSync(dirname(opt.out), { recursive: true });
writeFileSync(opt.out, report);
