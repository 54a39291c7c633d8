/**
 * report.ts: turns the measurements into markdown tables and small SVG bar
 * charts. Main entry points: `markdownReport(results)`, `charts(results)`.
 *
 * Every table comes twice: absolute figures per allocator, then heapfit's
 * figure divided by each peer's, measured in the same run:
 * - time: heapfit ns/op ÷ peer ns/op (above 1: heapfit is slower);
 * - footprint: heapfit footprint ÷ peer footprint, i.e. (1 + frag) ÷ (1 + frag)
 *   (above 1: heapfit needs more memory; a ratio of the two frag
 *   percentages themselves would explode near 0);
 * - efficiency: heapfit efficiency ÷ peer efficiency (above 1: heapfit
 *   fits more into the same arena).
 */
import type { Measurement, Status } from './jobs.js';
import { PEER_NAMES, PEER_SHORT, type Peer } from './targets.js';

/** The aggregate of all runs of one allocator on one workload item. */
export interface Cell {
	status: Status;
	note?: string;
	runs: Measurement[];
	/** Best (lowest) ns per op / per pair over the ok runs. */
	nsPerOp?: number;
	/** Median ns per op over the ok runs. */
	medianNsPerOp?: number;
	fragmentation?: number;
	footprintBytes?: number;
	/** Efficiency: mean over trials, and its range. */
	efficiency?: number;
	efficiencyMin?: number;
	efficiencyMax?: number;
	arenaBytes?: number;
	checkViolations?: number;
}

/** One workload item (a trace, a max size, a live count, or the efficiency test). */
export interface Row {
	key: string;
	label: string;
	info: Record<string, number | string>;
	cells: Partial<Record<Peer, Cell>>;
}

export interface Meta {
	date: string;
	node: string;
	v8: string;
	cpu: string;
	cores: number;
	memoryGiB: number;
	platform: string;
	loadavgStart: number[];
	loadavgEnd?: number[];
	heapfitCommit: string;
	versions: Record<string, string>;
	command: string;
	durationS?: number;
}

export interface Results {
	meta: Meta;
	options: Record<string, unknown>;
	peers: Peer[];
	workloads: {
		traces?: Row[];
		efficiency?: Row[];
		random?: Row[];
		pairs?: Row[];
	};
	notes: string[];
}

// ─── Formatting ──────────────────────────────────────────────────────────

/** 3 significant digits, grouped: 1234 → "1,234", 12.34 → "12.3". */
function num(x: number): string {
	if (!Number.isFinite(x)) return String(x);
	if (x === 0) return '0';
	const a = Math.abs(x);
	const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
	return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number, d = 1): string => `${(x * 100).toFixed(d)}%`;
const mib = (x: number): string => `${+(x / 2 ** 20).toFixed(2)} MiB`;
/** A ratio with 3 significant digits (0.0123×, 0.456×, 2.34×, 123×). */
const ratio = (x: number): string => `${x >= 100 ? x.toFixed(0) : x.toPrecision(3)}×`;
/** An axis tick: no trailing zeros. */
const tick = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 3 });

/** A round step (1, 2, 2.5 or 5 × 10^k) of about `x`. */
function niceStep(x: number): number {
	const e = 10 ** Math.floor(Math.log10(x));
	const f = x / e;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

/** What to print for a cell that has no figure. */
function missing(c: Cell | undefined): string {
	if (c === undefined) return '—';
	if (c.status === 'timeout') return 'timeout';
	if (c.status === 'skipped') return 'skipped';
	if (c.status === 'failed') return 'out of memory';
	return c.status;
}

/** heapfit's `key` ÷ the peer's as a ratio cell, or what is missing (the peer's status first, then heapfit's). */
function ratioCell(h: Cell | undefined, c: Cell | undefined, key: 'nsPerOp' | 'footprintBytes'): string {
	const hx = h?.[key];
	const cx = c?.[key];
	return hx !== undefined && cx !== undefined ? ratio(hx / cx) : missing(cx === undefined ? c : h);
}

/** A markdown table: the first column left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): string {
	const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
	for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
	return lines.join('\n');
}

function peersOf(rows: Row[], order: Peer[]): Peer[] {
	return order.filter((p) => rows.some((r) => r.cells[p] !== undefined));
}

// ─── Markdown ────────────────────────────────────────────────────────────

function tracesMd(rows: Row[], order: Peer[], runs: number): string {
	const peers = peersOf(rows, order);
	const out: string[] = [];
	out.push(`### Real traces (ns per op: best of ${runs}; frag = footprint ÷ peak live − 1)\n`);
	out.push(
		table(
			['trace', 'ops', 'peak live', ...peers.map((p) => PEER_SHORT[p])],
			rows.map((r) => [
				r.label,
				int(Number(r.info.ops ?? 0)),
				mib(Number(r.info.peakLiveBytes ?? 0)),
				...peers.map((p) => {
					const c = r.cells[p];
					if (c?.nsPerOp === undefined) return c?.status === 'timeout' ? `timeout (${c.note ?? ''})` : missing(c);
					const f = c.fragmentation === undefined ? '' : `, frag ${pct(c.fragmentation)}`;
					return `${num(c.nsPerOp)} ns${f}`;
				}),
			]),
		),
	);
	const others = peers.filter((p) => p !== 'heapfit');
	if (peers.includes('heapfit') && others.length > 0) {
		out.push('\nheapfit ÷ peer (time: ns/op ratio, above 1 = heapfit slower; footprint: above 1 = heapfit uses more memory):\n');
		const head = ['trace'];
		for (const p of others) {
			head.push(`time vs ${PEER_SHORT[p]}`);
			if (p !== 'bump') head.push(`footprint vs ${PEER_SHORT[p]}`);
		}
		out.push(
			table(
				head,
				rows.map((r) => {
					const h = r.cells.heapfit;
					const cells = [r.label];
					for (const p of others) {
						const c = r.cells[p];
						cells.push(ratioCell(h, c, 'nsPerOp'));
						if (p !== 'bump') cells.push(ratioCell(h, c, 'footprintBytes'));
					}
					return cells;
				}),
			),
		);
	}
	return out.join('\n');
}

function efficiencyMd(rows: Row[], order: Peer[]): string {
	const out: string[] = [];
	for (const r of rows) {
		const peers = peersOf([r], order);
		out.push(`### Heap efficiency (talc's method; ${r.label})\n`);
		const h = r.cells.heapfit;
		out.push(
			table(
				['allocator', 'arena', 'efficiency (mean)', 'min', 'max', 'trials', 'first failure (trial 1)', 'heapfit ÷ this'],
				peers.map((p) => {
					const c = r.cells[p] as Cell;
					const first = c.runs[0];
					const fail = first?.failedOn ? `${first.failedOn} after ${int(Number(first.actions ?? 0))} actions` : '';
					if (c.efficiency === undefined) return [PEER_NAMES[p], c.arenaBytes ? mib(c.arenaBytes) : '', missing(c), '', '', String(c.runs.length), c.note ?? '', ''];
					return [
						PEER_NAMES[p],
						c.arenaBytes ? mib(c.arenaBytes) : '',
						pct(c.efficiency, 2),
						pct(c.efficiencyMin ?? c.efficiency, 2),
						pct(c.efficiencyMax ?? c.efficiency, 2),
						String(c.runs.length),
						fail,
						h?.efficiency !== undefined && p !== 'heapfit' ? ratio(h.efficiency / c.efficiency) : '',
					];
				}),
			),
		);
	}
	return out.join('\n');
}

function timedMd(title: string, firstCol: string, unit: string, rows: Row[], order: Peer[], mops: boolean): string {
	const peers = peersOf(rows, order);
	const out: string[] = [`### ${title}\n`];
	out.push(
		table(
			[firstCol, ...peers.map((p) => PEER_SHORT[p])],
			rows.map((r) => [
				r.label,
				...peers.map((p) => {
					const c = r.cells[p];
					if (c?.nsPerOp === undefined) return missing(c);
					return mops ? `${num(c.nsPerOp)} ${unit} (${num(1e3 / c.nsPerOp)} Mops/s)` : `${num(c.nsPerOp)} ${unit}`;
				}),
			]),
		),
	);
	const others = peers.filter((p) => p !== 'heapfit');
	if (peers.includes('heapfit') && others.length > 0) {
		out.push(`\nheapfit ÷ peer (${unit} ratio; above 1 = heapfit slower):\n`);
		out.push(
			table(
				[firstCol, ...others.map((p) => `vs ${PEER_SHORT[p]}`)],
				rows.map((r) => {
					const h = r.cells.heapfit;
					return [
						r.label,
						...others.map((p) => ratioCell(h, r.cells[p], 'nsPerOp')),
					];
				}),
			),
		);
	}
	return out.join('\n');
}

/** The whole report as markdown (what run.ts prints and writes to results.md). */
export function markdownReport(res: Results, chartFiles: string[]): string {
	const m = res.meta;
	const o = res.options;
	const out: string[] = [];
	out.push('# heapfit benchmark results\n');
	out.push(`- date: ${m.date}${m.durationS !== undefined ? ` (suite took ${Math.round(m.durationS)} s)` : ''}`);
	out.push(`- node ${m.node} (V8 ${m.v8}), ${m.platform}`);
	out.push(`- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; load average at start ${m.loadavgStart.map((x) => x.toFixed(2)).join(' / ')}${m.loadavgEnd ? `, at end ${m.loadavgEnd.map((x) => x.toFixed(2)).join(' / ')}` : ''}`);
	out.push(`- heapfit ${m.heapfitCommit}; ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
	out.push(`- command: \`${m.command}\``);
	out.push(`- runs (best of): ${o.runs}; timeout per measurement: ${o.timeout} s; every measurement in its own process, peers alternating`);
	out.push('');
	out.push('Timings on a shared 2-core machine are noisy (the same figure can vary by 1.5× between runs); compare the ratios, which come from measurements taken next to each other.\n');
	const order = res.peers;
	const runs = Number(o.runs);
	const w = res.workloads;
	if (w.traces) out.push(w.traces.length > 0 ? tracesMd(w.traces, order, runs) : '### Real traces\n\nNo traces found.', '');
	if (w.efficiency) out.push(efficiencyMd(w.efficiency, order), '');
	if (w.random) {
		out.push(
			timedMd(
				`Random actions throughput (talc's random-actions mix; ${int(Number(o.randomOps))} timed actions; ns per action, best of ${runs})`,
				'max size',
				'ns',
				w.random,
				order,
				true,
			),
			'',
		);
	}
	if (w.pairs) {
		out.push(
			timedMd(
				`One free + one malloc, random victim, at steady state (sizes ${o.pairsMinSize}..${o.pairsMaxSize} B; ${int(Number(o.pairs))} timed pairs; ns per pair, best of ${runs})`,
				'live blocks',
				'ns',
				w.pairs,
				order,
				false,
			),
			'',
		);
	}
	if (chartFiles.length > 0) {
		out.push('### Charts\n');
		for (const f of chartFiles) out.push(`![${f}](${f})`);
		out.push('');
	}
	if (res.notes.length > 0) {
		out.push('### Notes\n');
		for (const n of res.notes) out.push(`- ${n}`);
		out.push('');
	}
	return out.join('\n');
}

// ─── SVG ─────────────────────────────────────────────────────────────────

const COLORS: Record<Peer, string> = {
	heapfit: '#d62728',
	native: '#7f7f7f',
	as: '#1f77b4',
	thing: '#2ca02c',
	bump: '#bcbd22',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Series {
	label: string;
	bars: { peer: Peer; value: number | undefined; text: string }[];
}

/** A horizontal grouped bar chart: one group per item, one bar per allocator. */
function barChart(title: string, unit: string, groups: Series[], scale: 'log' | 'linear'): string {
	const W = 760;
	const left = 170;
	const right = 150;
	const barH = 14;
	const gap = 12;
	const top = 46;
	const plotW = W - left - right;
	const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v): v is number => v !== undefined && v > 0);
	const max = values.length > 0 ? Math.max(...values) : 1;
	const min = values.length > 0 ? Math.min(...values) : 1;
	const useLog = scale === 'log' && max / min > 20;
	const lo = useLog ? 10 ** Math.floor(Math.log10(min)) : 0;
	const step = niceStep((max * 1.02) / 4);
	const hi = useLog ? 10 ** Math.ceil(Math.log10(max)) : Math.ceil((max * 1.02) / step) * step;
	const x = (v: number): number =>
		useLog ? ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW : (v / hi) * plotW;
	const height = top + groups.reduce((s, g) => s + g.bars.length * barH + gap, 0) + 24;
	const parts: string[] = [];
	parts.push(
		`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
	);
	parts.push(`<rect width="${W}" height="${height}" fill="white"/>`);
	parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
	parts.push(
		`<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">${esc(unit)}${useLog ? ' (log scale)' : ''}</text>`,
	);
	// grid
	const ticks: number[] = [];
	if (useLog) for (let t = lo; t <= hi * 1.001; t *= 10) ticks.push(t);
	else for (let t = 0; t <= hi * 1.0001; t += step) ticks.push(t);
	const plotBottom = height - 24;
	for (const t of ticks) {
		const tx = left + x(t);
		parts.push(`<line x1="${tx.toFixed(1)}" y1="${top - 4}" x2="${tx.toFixed(1)}" y2="${plotBottom}" stroke="#ddd"/>`);
		parts.push(`<text x="${tx.toFixed(1)}" y="${plotBottom + 14}" text-anchor="middle" fill="#555">${esc(tick(t))}</text>`);
	}
	let y = top;
	for (const g of groups) {
		const gh = g.bars.length * barH;
		parts.push(`<text x="${left - 8}" y="${(y + gh / 2 + 4).toFixed(1)}" text-anchor="end" font-weight="bold">${esc(g.label)}</text>`);
		for (const b of g.bars) {
			const w = b.value !== undefined && b.value > 0 ? Math.max(1, x(b.value)) : 0;
			if (w > 0) {
				parts.push(`<rect x="${left}" y="${y + 1}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLORS[b.peer]}"/>`);
			}
			parts.push(
				`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 3}" fill="#222">${esc(`${PEER_SHORT[b.peer]}: ${b.text}`)}</text>`,
			);
			y += barH;
		}
		y += gap;
	}
	parts.push('</svg>');
	return `${parts.join('\n')}\n`;
}

/** The charts for whatever workloads ran: file name → SVG text. */
export function charts(res: Results): Map<string, string> {
	const out = new Map<string, string>();
	const order = res.peers;
	const w = res.workloads;
	const timedGroups = (rows: Row[], text: (c: Cell) => string, value: (c: Cell) => number | undefined): Series[] =>
		rows.map((r) => ({
			label: r.label,
			bars: peersOf(rows, order)
				.filter((p) => r.cells[p] !== undefined)
				.map((p) => {
					const c = r.cells[p] as Cell;
					const v = value(c);
					return { peer: p, value: v, text: v === undefined ? missing(c) : text(c) };
				}),
		}));
	if (w.traces && w.traces.length > 0) {
		out.set(
			'traces-ns-per-op.svg',
			barChart('Real traces: time per op', 'ns per op, best of runs (shorter is better)', timedGroups(w.traces, (c) => `${num(c.nsPerOp as number)} ns`, (c) => c.nsPerOp), 'log'),
		);
		const fragRows = w.traces.map((r) => ({ ...r, cells: Object.fromEntries(Object.entries(r.cells).filter(([p]) => p !== 'bump')) }));
		out.set(
			'traces-fragmentation.svg',
			barChart(
				'Real traces: fragmentation',
				'footprint ÷ peak live − 1, in % (shorter is better)',
				timedGroups(fragRows, (c) => pct(c.fragmentation as number), (c) => (c.fragmentation === undefined ? undefined : c.fragmentation * 100)),
				'linear',
			),
		);
	}
	if (w.efficiency && w.efficiency.length > 0) {
		out.set(
			'heap-efficiency.svg',
			barChart(
				'Heap efficiency (talc method)',
				'live requested bytes ÷ arena bytes at the first failure, % (longer is better)',
				timedGroups(w.efficiency, (c) => pct(c.efficiency as number, 2), (c) => (c.efficiency === undefined ? undefined : c.efficiency * 100)),
				'linear',
			),
		);
	}
	if (w.random && w.random.length > 0) {
		out.set(
			'random-actions.svg',
			barChart(
				'Random actions throughput',
				'million actions per second (longer is better)',
				timedGroups(w.random, (c) => `${num(1e3 / (c.nsPerOp as number))} Mops/s`, (c) => (c.nsPerOp === undefined ? undefined : 1e3 / c.nsPerOp)),
				'log',
			),
		);
	}
	if (w.pairs && w.pairs.length > 0) {
		out.set(
			'free-malloc-pairs.svg',
			barChart('free + malloc pair, random victim', 'ns per pair (shorter is better)', timedGroups(w.pairs, (c) => `${num(c.nsPerOp as number)} ns`, (c) => c.nsPerOp), 'log'),
		);
	}
	return out;
}
