/**
 * main.ts: the heapfit playground. A real heapfit Heap runs in the page;
 * every picture is drawn from its memory by the library's own renderers
 * (renderSvg, renderTimelineSvg) and readers (blocks(), stats(), tlsfBins).
 *
 * ```
 *  controls ──► heap call ──► blocks before/after ──► diffBlocks ──► log + flashes
 *                   │
 *                   └──► render(): map (renderSvg) · stats · bins · timeline
 * ```
 * Two modes: a fresh heap the person fills by hand, or the heap of the
 * bundled sqlite trace, stepped by a TraceCursor (play, pause, scrub).
 */
import { Heap } from '../src/index.js';
import { type BlockView, type ReplaySeries, blockTotals, blockViews, renderSvg, renderTimelineSvg, sampleReplay } from '../src/render/index.js';
import { formatInt, esc as html, hex } from '../src/render/svgkit.js';
import { blockOf } from '../src/block.js';
import { ALIGN } from '../src/layout.js';
import { mappingInsert } from '../src/sizeclass.js';
import { OP_FREE, OP_NAMES, type Trace, readTrace } from '../src/trace/index.js';
import { PLAYGROUND_CACHE, TraceCursor } from './cursor.js';
import { type Blk, type Change, diffBlocks } from './diff.js';
import { type Concept, type Explanation, bytes, explainAlloc, explainFree, explainRealloc, requestBlockSize } from './explain.js';
import { binsHtml, blockHtml, statsHtml } from './panels.js';

const TRACE_URL = 'sqlite-index.trace.gz';
const TRACE_HEAP = 20 << 20;
const LOG_LINES = 8;

/** The element with id `id` (it must exist). */
function $<T extends HTMLElement = HTMLElement>(id: string): T {
	const el = document.getElementById(id);
	if (el === null) throw new Error(`playground: no #${id}`);
	return el as T;
}

const ui = {
	modeFresh: $<HTMLInputElement>('mode-fresh'),
	modeTrace: $<HTMLInputElement>('mode-trace'),
	heapSize: $<HTMLSelectElement>('heap-size'),
	reset: $<HTMLButtonElement>('reset'),
	allocForm: $<HTMLFormElement>('alloc-form'),
	allocSize: $<HTMLInputElement>('alloc-size'),
	allocAlign: $<HTMLSelectElement>('alloc-align'),
	selection: $('selection'),
	free: $<HTMLButtonElement>('free'),
	reallocSize: $<HTMLInputElement>('realloc-size'),
	realloc: $<HTMLButtonElement>('realloc'),
	traceControls: $('trace-controls'),
	traceStatus: $('trace-status'),
	play: $<HTMLButtonElement>('play'),
	step: $<HTMLButtonElement>('step'),
	toPeak: $<HTMLButtonElement>('to-peak'),
	speed: $<HTMLSelectElement>('speed'),
	scrub: $<HTMLInputElement>('scrub'),
	opOut: $<HTMLOutputElement>('op-out'),
	map: $('map'),
	blockInfo: $('block-info'),
	timeline: $('timeline'),
	stats: $('stats'),
	bins: $('bins'),
	log: $('log'),
	status: $('status'),
};

// ─── State ───────────────────────────────────────────────────────────────

let mode: 'fresh' | 'trace' = 'fresh';
let freshHeap = new Heap({ size: Number(ui.heapSize.value), cache: PLAYGROUND_CACHE });
const freshRequested = new Map<number, number>();
let trace: Trace | null = null;
let series: ReplaySeries | null = null;
let cursor: TraceCursor | null = null;
let playing = false;
/** Header address of the selected block, or null. */
let selected: number | null = null;
/** Header address of the block that holds the map's tab stop. */
let tabStop: number | null = null;
/** The views of the last render, in address order, and their index by address. */
let views: BlockView[] = [];
let viewAt = new Map<number, number>();
/** The list the last allocation searched, to outline in the bins table. */
let binHighlight: number | null = null;

const heap = (): Heap => (mode === 'trace' && cursor !== null ? cursor.heap : freshHeap);
const requested = (): Map<number, number> => (mode === 'trace' && cursor !== null ? cursor.requested : freshRequested);

/** The walker's blocks, for diffing. */
function snapshot(): Blk[] {
	return [...heap().blocks()].map((b) => ({ block: b.block, size: b.size, free: b.free }));
}

// ─── Rendering ───────────────────────────────────────────────────────────

/** Bytes per row so that a 16-byte block is a few px wide at this width. */
function rowBytesFor(area: number, width: number): number | undefined {
	if (mode === 'trace') return undefined;
	// About 0.8 px per byte (a 16-byte block 13 px wide), in at most 10 rows.
	const perRow = Math.max(64, Math.floor((width - 90) / 0.8 / 64) * 64, Math.ceil(area / 10 / 64) * 64);
	return Math.min(perRow, Math.ceil(area / 8) * 8);
}

/** Draws the heap map, keeping focus, selection and flashes. */
function renderMap(flash: Map<number, string> = new Map()): void {
	const h = heap();
	const width = Math.max(280, Math.floor(ui.map.clientWidth));
	const hadFocus = ui.map.contains(document.activeElement);
	const focused = hadFocus ? Number((document.activeElement as Element).getAttribute('data-block')) : null;
	const area = h._sentinel - h._blocksStart;
	const next = blockViews(h, requested());
	ui.map.innerHTML = renderSvg(h, {
		width,
		rowBytes: rowBytesFor(area, width),
		rows: mode === 'trace' ? 8 : undefined,
		rowHeight: mode === 'trace' ? 22 : 30,
		views: next,
		interactive: true,
		declaration: false,
		idPrefix: 'pg',
		title: mode === 'trace' ? 'heap filled by the sqlite trace' : 'fresh heap',
	});
	views = next;
	viewAt = new Map(views.map((v, i) => [v.block, i]));
	if (selected !== null && !viewAt.has(selected)) selected = null;
	if (tabStop === null || !viewAt.has(tabStop)) tabStop = selected ?? views[0]?.block ?? null;
	for (const g of ui.map.querySelectorAll<SVGGElement>('g.block')) {
		const b = Number(g.dataset.block);
		if (b === tabStop) g.setAttribute('tabindex', '0');
		if (b === selected) g.classList.add('selected');
		const f = flash.get(b);
		if (f !== undefined) g.classList.add(f);
	}
	if (hadFocus) blockEl(focused !== null && viewAt.has(focused) ? focused : tabStop)?.focus();
}

/** The `<g>` of the block at header address `b`. */
function blockEl(b: number | null): SVGGElement | null {
	return b === null ? null : ui.map.querySelector<SVGGElement>(`g.block[data-block="${b}"]`);
}

function renderPanels(): void {
	const h = heap();
	ui.stats.innerHTML = statsHtml(h, blockTotals(views));
	ui.bins.innerHTML = binsHtml(h, binHighlight);
	renderSelection();
	if (mode === 'trace' && cursor !== null && trace !== null) {
		ui.scrub.value = String(cursor.pos);
		ui.opOut.value = `${formatInt(cursor.pos)} of ${formatInt(trace.ops)}`;
		if (series !== null) {
			ui.timeline.innerHTML = renderTimelineSvg(series, {
				width: Math.max(280, Math.floor(ui.timeline.clientWidth)),
				plotHeight: 140,
				marker: cursor.pos,
				markerLabel: `op ${formatInt(cursor.pos)}`,
				declaration: false,
				idPrefix: 'tl',
				title: 'the whole trace (sampled); the red line is where the heap is now',
			});
		}
		const failed = cursor.failedAt >= 0 ? ` · out of memory at op ${cursor.failedAt}` : '';
		ui.traceStatus.textContent = `${trace.program ?? 'trace'}: ${formatInt(trace.ops)} calls${failed}`;
	}
}

function renderSelection(): void {
	const i = selected === null ? undefined : viewAt.get(selected);
	const v = i === undefined ? undefined : views[i];
	ui.free.disabled = v === undefined || v.free;
	ui.realloc.disabled = v === undefined || v.free;
	if (v === undefined) {
		ui.selection.textContent = 'Nothing selected. Click a block, or Tab to the map and use the arrow keys, then Enter.';
		return;
	}
	ui.selection.innerHTML = `${v.free ? 'Free block' : 'Block'} <code>${hex(v.block)}</code>, ${html(bytes(v.size))}${v.free ? ' (free: nothing to free or realloc)' : `, ptr <code>${hex(v.ptr)}</code>`}`;
}

/** Throttled full render during playback; immediate otherwise. */
let lastMapRender = 0;
function render(flash?: Map<number, string>, throttle = false): void {
	const now = performance.now();
	if (!throttle || now - lastMapRender > 150) {
		renderMap(flash);
		lastMapRender = now;
	}
	renderPanels();
}

// ─── The log and the concepts ────────────────────────────────────────────

function log(e: Explanation, ok = true): void {
	const li = document.createElement('li');
	li.textContent = e.text;
	if (!ok) li.className = 'failed';
	ui.log.prepend(li);
	while (ui.log.children.length > LOG_LINES) ui.log.lastElementChild?.remove();
	for (const el of document.querySelectorAll('.concept')) el.classList.remove('lit');
	for (const c of e.concepts) document.getElementById(`c-${c}`)?.classList.add('lit');
}

/** Flash classes for the blocks a change produced. */
function flashes(changes: Change[]): Map<number, string> {
	const out = new Map<number, string>();
	for (const c of changes) {
		const cls = c.kind === 'merge' ? 'flash-merge' : c.kind === 'state' ? 'flash-state' : 'flash-split';
		for (const b of c.after) out.set(b.block, cls);
	}
	return out;
}

/**
 * Runs a heap call, then logs what it did, lets `then` update the page's
 * state, and redraws with the flashes.
 */
function act(call: () => number, explain: (out: number, changes: Change[]) => Explanation, then?: (out: number) => void): number {
	if (playing) pause();
	const before = snapshot();
	let out: number;
	try {
		out = call();
	} catch (e) {
		log({ text: `error: ${(e as Error).message}`, concepts: [] }, false);
		return 0;
	}
	const changes = diffBlocks(before, snapshot());
	const e = explain(out, changes);
	log(e, out !== 0);
	then?.(out);
	render(flashes(changes));
	return out;
}

// ─── Heap calls ──────────────────────────────────────────────────────────

function allocate(size: number, align: number): void {
	binHighlight = mappingInsert(requestBlockSize(size, align));
	const s = heap().stats();
	act(
		() => (align > ALIGN ? heap().alignedAlloc(align, size) : heap().malloc(size)),
		(out, changes) => explainAlloc(size, align, out, changes, s.largestFreeBlock, s.freeBytes),
		(p) => {
			if (p === 0) return;
			requested().set(p, size);
			selected = blockOf(p);
			tabStop = selected;
		},
	);
}

function freeSelected(): void {
	const v = selected === null ? undefined : views[viewAt.get(selected) ?? -1];
	if (v === undefined || v.free) return;
	binHighlight = null;
	const refocus = ui.map.contains(document.activeElement);
	act(
		() => {
			heap().free(v.ptr);
			requested().delete(v.ptr);
			cursor?.forget(v.ptr);
			return 1;
		},
		(_, changes) => explainFree(v.ptr, v.size, changes),
		() => {
			// Keep the selection (and focus) on the free block that now covers it.
			for (const b of heap().blocks()) {
				if (b.block <= v.block && v.block < b.block + b.size) selected = b.block;
			}
			tabStop = selected;
		},
	);
	if (refocus) blockEl(selected)?.focus();
}

function reallocSelected(size: number): void {
	const v = selected === null ? undefined : views[viewAt.get(selected) ?? -1];
	if (v === undefined || v.free) return;
	act(
		() => heap().realloc(v.ptr, size),
		(out, changes) => explainRealloc(v.ptr, size, out, v.size, changes),
		(q) => {
			if (q === 0) return;
			requested().delete(v.ptr);
			requested().set(q, size);
			cursor?.moved(v.ptr, q);
			selected = blockOf(q);
			tabStop = selected;
		},
	);
}

// ─── Modes and the trace ─────────────────────────────────────────────────

async function loadTrace(): Promise<void> {
	if (trace !== null) return;
	ui.status.textContent = 'Loading and decoding the sqlite trace…';
	const res = await fetch(TRACE_URL);
	if (!res.ok || res.body === null) throw new Error(`could not load ${TRACE_URL}: HTTP ${res.status}`);
	trace = await readTrace(res.body);
	ui.status.textContent = `Replaying ${formatInt(trace.ops)} calls once to draw the timeline…`;
	await new Promise((r) => setTimeout(r, 0));
	series = sampleReplay(trace, new Heap({ size: TRACE_HEAP, cache: PLAYGROUND_CACHE }), { samples: 300 }).series;
	cursor = new TraceCursor(trace, TRACE_HEAP);
	ui.scrub.max = String(trace.ops);
	ui.status.textContent = '';
}

async function setMode(next: 'fresh' | 'trace'): Promise<void> {
	pause();
	selected = null;
	tabStop = null;
	binHighlight = null;
	if (next === 'trace') {
		ui.modeTrace.disabled = true;
		try {
			await loadTrace();
		} catch (e) {
			ui.status.textContent = `The trace could not be loaded: ${(e as Error).message}`;
			ui.modeFresh.checked = true;
			ui.modeTrace.disabled = false;
			return;
		}
		ui.modeTrace.disabled = false;
		mode = 'trace';
		if (cursor !== null && series !== null && cursor.pos === 0) cursor.seek(series.peakOp + 1);
		log({ text: 'The heap of the sqlite trace at its peak: press Play, drag the slider, or free blocks by hand.', concepts: ['external', 'bins'] });
	} else {
		mode = 'fresh';
	}
	ui.traceControls.hidden = mode !== 'trace';
	ui.timeline.hidden = mode !== 'trace';
	ui.heapSize.disabled = mode === 'trace';
	render();
}

function resetHeap(): void {
	pause();
	selected = null;
	tabStop = null;
	binHighlight = null;
	if (mode === 'trace' && cursor !== null) cursor.reset();
	else {
		freshHeap = new Heap({ size: Number(ui.heapSize.value), cache: PLAYGROUND_CACHE });
		freshRequested.clear();
	}
	ui.log.innerHTML = '';
	render();
}

function frame(): void {
	if (!playing || cursor === null) return;
	const before = cursor.pos;
	cursor.advanceTo(before + Number(ui.speed.value));
	const done = cursor.pos >= cursor.trace.ops || cursor.failedAt >= 0;
	render(undefined, !done);
	if (done) pause();
	else requestAnimationFrame(frame);
}

function play(): void {
	if (cursor === null || playing) return;
	if (cursor.pos >= cursor.trace.ops) cursor.reset();
	playing = true;
	ui.play.textContent = 'Pause';
	ui.play.setAttribute('aria-pressed', 'true');
	requestAnimationFrame(frame);
}

function pause(): void {
	if (!playing) return;
	playing = false;
	ui.play.textContent = 'Play';
	ui.play.setAttribute('aria-pressed', 'false');
	render();
}

function stepOne(): void {
	if (cursor === null) return;
	pause();
	const before = snapshot();
	const i = cursor.pos;
	cursor.advanceTo(i + 1);
	const changes = diffBlocks(before, snapshot());
	const t = cursor.trace;
	const what = OP_NAMES[t.kind[i]];
	const kinds = changes.map((c) => c.kind);
	const text = `op ${i + 1}: ${what} of object ${t.id[i]}${t.kind[i] === OP_FREE ? '' : ` (${bytes(t.size[i])})`}${kinds.includes('merge') ? ' — coalesced' : ''}${kinds.includes('split') ? ' — split a free block' : ''}.`;
	const concepts: Concept[] = kinds.includes('merge') ? ['coalescing'] : kinds.includes('split') ? ['splitting'] : [];
	log({ text, concepts });
	render(flashes(changes));
}

let scrubQueued = false;
function scrub(): void {
	if (scrubQueued) return;
	scrubQueued = true;
	requestAnimationFrame(() => {
		scrubQueued = false;
		if (cursor === null) return;
		pause();
		cursor.seek(Number(ui.scrub.value));
		render(undefined, true);
	});
}

// ─── Events ──────────────────────────────────────────────────────────────

/** The block `<g>` an event happened in, if any. */
function blockOfEvent(e: Event): SVGGElement | null {
	return (e.target as Element).closest?.('g.block') ?? null;
}

function showInfo(g: SVGGElement | null): void {
	if (g === null) return;
	const i = viewAt.get(Number(g.dataset.block));
	if (i === undefined) return;
	ui.blockInfo.innerHTML = blockHtml(views[i], views[i - 1], heap()._blocksStart);
}

function select(b: number): void {
	selected = b;
	tabStop = b;
	for (const g of ui.map.querySelectorAll('g.block.selected')) g.classList.remove('selected');
	blockEl(b)?.classList.add('selected');
	renderSelection();
}

/** Moves the map's tab stop to block index `i` and focuses it. */
function focusIndex(i: number): void {
	const v = views[Math.max(0, Math.min(views.length - 1, i))];
	if (v === undefined) return;
	blockEl(tabStop)?.setAttribute('tabindex', '-1');
	tabStop = v.block;
	const g = blockEl(v.block);
	g?.setAttribute('tabindex', '0');
	g?.focus();
}

ui.map.addEventListener('click', (e) => {
	const g = blockOfEvent(e);
	if (g === null) return;
	select(Number(g.dataset.block));
	g.focus();
	showInfo(g);
});
ui.map.addEventListener('mouseover', (e) => showInfo(blockOfEvent(e)));
ui.map.addEventListener('focusin', (e) => showInfo(blockOfEvent(e)));
ui.map.addEventListener('keydown', (e) => {
	const g = blockOfEvent(e);
	if (g === null) return;
	const i = viewAt.get(Number(g.dataset.block)) ?? 0;
	const key = e.key;
	if (key === 'ArrowRight' || key === 'ArrowDown') focusIndex(i + 1);
	else if (key === 'ArrowLeft' || key === 'ArrowUp') focusIndex(i - 1);
	else if (key === 'Home') focusIndex(0);
	else if (key === 'End') focusIndex(views.length - 1);
	else if (key === 'Enter' || key === ' ') select(Number(g.dataset.block));
	else if (key === 'Delete' || key === 'Backspace') {
		select(Number(g.dataset.block));
		freeSelected();
	} else return;
	e.preventDefault();
});

ui.allocForm.addEventListener('submit', (e) => {
	e.preventDefault();
	if (!ui.allocForm.reportValidity()) return;
	allocate(Number(ui.allocSize.value), Number(ui.allocAlign.value));
});
ui.free.addEventListener('click', freeSelected);
ui.realloc.addEventListener('click', () => {
	if (ui.reallocSize.reportValidity()) reallocSelected(Number(ui.reallocSize.value));
});
ui.reset.addEventListener('click', resetHeap);
ui.heapSize.addEventListener('change', resetHeap);
ui.modeFresh.addEventListener('change', () => void setMode('fresh'));
ui.modeTrace.addEventListener('change', () => void setMode('trace'));
ui.play.addEventListener('click', () => (playing ? pause() : play()));
ui.step.addEventListener('click', stepOne);
ui.toPeak.addEventListener('click', () => {
	if (cursor === null || series === null) return;
	pause();
	cursor.seek(series.peakOp + 1);
	render();
});
ui.scrub.addEventListener('input', scrub);

let lastWidth = ui.map.clientWidth;
new ResizeObserver(() => {
	if (ui.map.clientWidth === lastWidth) return;
	lastWidth = ui.map.clientWidth;
	requestAnimationFrame(() => render());
}).observe(ui.map);

render();
document.documentElement.dataset.ready = 'true';
