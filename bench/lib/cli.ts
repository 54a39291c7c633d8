/**
 * cli.ts: the command-line plumbing the benchmark drivers share: parsing
 * their options (node:util parseArgs), --help, the checked conversions of
 * option values, and the run metadata of their result headers. Each driver
 * keeps its own option table.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The repository root (this file is bench/lib/cli.ts). */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One option of a driver: a string or a flag, with its default and help text. */
export type OptionSpec = { type: 'string'; default: string; description: string } | { type: 'boolean'; default: boolean; description: string };

/** A driver's parsed command line and checked conversions that exit 1 with a message (and the usage) on bad input. */
export interface Cli<O extends Record<string, OptionSpec>> {
	opt: { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : string };
	positionals: string[];
	usage(): string;
	/** A non-negative integer option value. */
	posInt(name: string, s: string): number;
	/** A comma-separated list, blanks dropped. */
	list(s: string): string[];
	/** Option `name`'s comma-separated values, each one of `known` (a `noun`), else says which and exits 1. */
	choices<T extends string>(name: string, noun: string, s: string, known: readonly T[]): T[];
	/** Prints `message` and the usage, and exits 1. */
	fail(message: string): never;
}

/** Parses `process.argv` for a driver run as `command`; prints the usage and exits on --help. */
export function parseCli<O extends Record<string, OptionSpec>>(command: string, options: O, allowPositionals: boolean): Cli<O> {
	const width = Math.max(...Object.keys(options).map((k) => k.length)) + 1;
	const usage = () =>
		[`usage: ${command}`, ...Object.entries(options).map(([k, o]) => `  --${k.padEnd(width)} ${o.description} (default ${String(o.default)})`)].join('\n');
	// Bad options exit with status 1, as every `heapfit` command does.
	const fail = (message: string): never => {
		console.error(`${message}\n${usage()}`);
		process.exit(1);
	};
	let parsed: ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean }>>;
	try {
		parsed = parseArgs({ options, allowPositionals });
	} catch (e) {
		return fail(e instanceof Error ? e.message : String(e));
	}
	const { values, positionals } = parsed;
	const opt = values as unknown as Cli<O>['opt'];
	if ((opt as { help?: boolean }).help === true) {
		console.log(usage());
		process.exit(0);
	}
	const posInt = (name: string, s: string): number => {
		const n = Number(s);
		if (!Number.isInteger(n) || n < 0) fail(`--${name}: expected a non-negative integer, got ${JSON.stringify(s)}`);
		return n;
	};
	const list = (s: string): string[] =>
		s
			.split(',')
			.map((x) => x.trim())
			.filter((x) => x !== '');
	const choices = <T extends string>(name: string, noun: string, s: string, known: readonly T[]): T[] => {
		const xs = list(s);
		for (const x of xs) {
			if (!(known as readonly string[]).includes(x)) {
				console.error(`--${name}: unknown ${noun} ${JSON.stringify(x)} (known: ${known.join(', ')})`);
				process.exit(1);
			}
		}
		return xs as T[];
	};
	return { opt, positionals, usage, posInt, list, choices, fail };
}

/** Writes a progress line to stderr (stdout is for the results). */
export function log(s: string): void {
	process.stderr.write(`${s}\n`);
}

/** Order of the items in round r (0-based): rotated by r, so no item always goes first. */
export function rotation<T>(xs: readonly T[], r: number): T[] {
	const k = xs.length === 0 ? 0 : r % xs.length;
	return [...xs.slice(k), ...xs.slice(0, k)];
}

/** The checked-out commit of `repo`, noting uncommitted changes under src/ (for result headers). */
function gitCommit(repo: string): string {
	try {
		const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
		const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
		return `${sha}${dirty ? ' (src/ has uncommitted changes)' : ''}`;
	} catch {
		return 'unknown commit';
	}
}

/** The metadata every driver records about its run (the fields of its results' `meta` they share). */
export interface RunMeta {
	date: string;
	node: string;
	v8: string;
	cpu: string;
	cores: number;
	platform: string;
	loadavgStart: number[];
	heapfitCommit: string;
	command: string;
}

/**
 * The run's metadata, taken now. `command` is how the driver is run without
 * its arguments (e.g. `node --import tsx bench/run.ts`); this process's
 * arguments are appended.
 */
export function runMeta(command: string): RunMeta {
	const cpus = os.cpus();
	return {
		date: new Date().toISOString(),
		node: process.version,
		v8: process.versions.v8,
		cpu: cpus[0]?.model ?? 'unknown',
		cores: cpus.length,
		platform: `${os.platform()} ${os.release()} ${os.arch()}`,
		loadavgStart: os.loadavg(),
		heapfitCommit: gitCommit(REPO),
		command: `${command} ${process.argv.slice(2).join(' ')}`.trim(),
	};
}
