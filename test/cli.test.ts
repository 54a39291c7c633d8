/** The `heapfit` command: output, JSON, and one-line errors with exit status 1. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseXml } from './support/xml.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SQLITE = fileURLToPath(new URL('../traces/sqlite-index.trace.gz', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'heapfit-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
	const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
	return { code: r.status, out: r.stdout, err: r.stderr };
}
function traceFile(name: string, text: string): string {
	const p = join(dir, name);
	writeFileSync(p, text);
	return p;
}

test('replay --json prints exactly one JSON object with the figures', () => {
	const f = traceFile('ok.trace', '# alloc-trace v1 program=t\na 1 100\na 2 50\nf 1\nr 2 400\nf 2\n');
	const r = run('replay', f, '--json', '--size', '1M');
	assert.equal(r.code, 0, r.err);
	const lines = r.out.trim().split('\n');
	assert.equal(lines.length, 1);
	const j = JSON.parse(lines[0]);
	assert.equal(j.ops, 5);
	assert.equal(j.peakLiveBytes, 400);
	assert.equal(j.heapSize, 1 << 20);
	for (const k of ['footprintBytes', 'fragmentation', 'nsPerOp']) assert.equal(typeof j[k], 'number', k);
	assert.equal(j.fragmentation, j.footprintBytes / j.peakLiveBytes - 1);
});

test('replay prints a readable summary of the bundled trace', () => {
	const r = run('replay', SQLITE);
	assert.equal(r.code, 0, r.err);
	assert.match(r.out, /ops\s+411,428 of 411,428/);
	assert.match(r.out, /peak live bytes\s+13,876,452 B/);
	assert.match(r.out, /fragmentation\s+\d+\.\d+ %/);
});

test('a failed allocation is reported with its op index and exit status 2', () => {
	const f = traceFile('big.trace', 'a 1 100\na 2 5000000\n');
	const r = run('replay', f, '--size', '64k', '--json');
	assert.equal(r.code, 2);
	const j = JSON.parse(r.out);
	assert.deepEqual({ op: j.failedAt.op, line: j.failedAt.line, kind: j.failedAt.kind }, { op: 1, line: 2, kind: 'a' });
});

for (const [name, text, pattern] of [
	['malformed line', 'a 1 10\na 2\n', /^heapfit: line 2: /],
	['unknown id', 'a 1 10\nf 7\n', /^heapfit: line 2: .*id 7/],
	['unknown op letter', 'a 1 10\nz 1\n', /^heapfit: line 2: /],
	['empty file', '', /^heapfit: .*empty/],
] as const) {
	test(`bad input (${name}) gives one line and exit status 1`, () => {
		const r = run('replay', traceFile(`${name.replace(/ /g, '-')}.trace`, text));
		assert.equal(r.code, 1);
		assert.match(r.err, pattern);
		assert.equal(r.err.trim().split('\n').length, 1, r.err);
		assert.doesNotMatch(r.err, /\n\s+at /);
	});
}

test('a missing file, an unknown command and a bad option give one line and exit status 1', () => {
	for (const args of [['replay', join(dir, 'nope.gz')], ['frobnicate'], ['replay', SQLITE, '--bogus'], ['replay', SQLITE, '--size', 'lots']]) {
		const r = run(...args);
		assert.equal(r.code, 1, args.join(' '));
		assert.match(r.err, /^heapfit: /);
		assert.equal(r.err.trim().split('\n').length, 1, r.err);
	}
});

test('map prints a text heap map at peak', () => {
	const f = traceFile('map.trace', 'a 1 1000\na 2 1000\na 3 1000\nf 2\n');
	const r = run('map', f, '--size', '64k', '--width', '32', '--rows', '4');
	assert.equal(r.code, 0, r.err);
	assert.match(r.out, /at peak live bytes \(after op 3\)/);
	assert.match(r.out, /█/);
});

test('replay --svg writes a well-formed SVG with the heap map and the timeline', () => {
	const f = traceFile('svg.trace', 'a 1 1000\na 2 2000\nf 1\na 3 500\nr 2 4000\n');
	const out = join(dir, 'map.svg');
	const r = run('replay', f, '--size', '64k', '--svg', out);
	assert.equal(r.code, 0, r.err);
	const svg = readFileSync(out, 'utf8');
	assert.equal(parseXml(svg).name, 'svg');
	assert.match(svg, /heap map, after op 5 \(peak footprint\)/);
	assert.match(svg, /heap over the replay/);
});

test('replay of a long trace shows a cli-progress bar on stderr when stderr is a terminal, and none otherwise', (t) => {
	// `script` (util-linux) gives the command a pseudo-terminal, as a user's shell would.
	const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
	if (probe.status !== 0) {
		t.skip('util-linux script is not installed');
		return;
	}
	const cmd = [process.execPath, '--import', 'tsx', MAIN, 'replay', SQLITE].map((a) => `'${a}'`).join(' ');
	const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
	assert.equal(tty.status, 0, tty.stderr);
	assert.match(tty.stdout, /replay \[[^\]]*\] 100% \| 411428\/411428 ops/, 'the bar reaches 100 %');
	assert.match(tty.stdout, /ops\s+411,428 of 411,428/, 'then the summary');
	const piped = run('replay', SQLITE);
	assert.doesNotMatch(piped.err, /\] \d+%/, 'no bar when stderr is not a terminal');
});

test('bench runs the benchmark suite and prints its tables', () => {
	const out = join(dir, 'bench');
	const r = run('bench', '--only', 'heapfit,bump', '--workloads', 'pairs', '--live', '1000', '--pairs', '2000', '--runs', '1', '--out', out);
	assert.equal(r.code, 0, r.err);
	assert.match(r.out, /### One free \+ one malloc/);
	assert.match(r.out, /\| 1,000 \| [\d.]+ ns \| [\d.]+ ns \|/, 'a row for 1,000 live blocks, heapfit and bump');
	assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| live blocks \| heapfit \| bump \|/);
	for (const args of [['--workloads', 'nonsense'], ['--bogus'], ['--runs', 'x']]) {
		const bad = run('bench', ...args);
		assert.equal(bad.code, 1, `bench ${args.join(' ')}`);
		assert.match(bad.err.split('\n')[0], /--(workloads|bogus|runs)/, 'the first line names the bad option');
		assert.doesNotMatch(bad.err, /^\s+at /m, 'no stack trace');
	}
});
