/**
 * panels.ts: the stats list, the TLSF bins table and the block details,
 * as HTML built from the library's own views of the heap (`heap.stats()`,
 * `blockTotals`, `tlsfBins`).
 */
import type { Heap } from '../src/index.js';
import { type BlockTotals, type BlockView, type TlsfBins, tlsfBins } from '../src/render/index.js';
import { esc as html, formatBytes, hex, percent } from '../src/render/svgkit.js';
import { bytes } from './explain.js';
import { ALIGN, MIN_BLOCK, SL_BITS, SMALL_BLOCK } from '../src/layout.js';
import { listMinSize } from '../src/sizeclass.js';

/** The stats list: each value carries its raw number in `data-value`. */
export function statsHtml(heap: Heap, t: BlockTotals): string {
	const s = heap.stats();
	const item = (key: string, label: string, value: number, shown: string, note: string) =>
		`<div class="stat"><dt>${label}</dt><dd data-stat="${key}" data-value="${value}">${html(shown)}</dd><dd class="note">${html(note)}</dd></div>`;
	const internal = t.internalFragmentation;
	return [
		item('used', 'Used', s.usedBytes, formatBytes(s.usedBytes), `usable bytes of ${s.liveBlocks} live block${s.liveBlocks === 1 ? '' : 's'}`),
		item('requested', 'Requested', t.payload, formatBytes(t.payload), 'what the callers asked for'),
		item('free', 'Free', s.freeBytes, formatBytes(s.freeBytes), `in ${s.freeBlocks} free block${s.freeBlocks === 1 ? '' : 's'}`),
		item('largest', 'Largest free', s.largestFreeBlock, formatBytes(s.largestFreeBlock), `so malloc can return up to ${bytes(s.largestAllocatable)}`),
		item('internal', 'Internal fragmentation', internal ?? 0, internal === null ? '–' : percent(internal), `${bytes(t.slack)} of slack inside allocated blocks`),
		item('external', 'External fragmentation', s.externalFragmentation, percent(s.externalFragmentation), '1 − largest free ÷ free'),
		item('overhead', 'Overhead', s.overheadBytes, formatBytes(s.overheadBytes), `headers and the root, tables and bitmap (${bytes(s.metaBytes)})`),
		item('liveBlocks', 'Live blocks', s.liveBlocks, String(s.liveBlocks), 'allocated'),
		item('freeBlocks', 'Free blocks', s.freeBlocks, String(s.freeBlocks), 'in the free lists'),
	].join('');
}

/** Size range of first-level class `fl`, in words. */
function classRange(fl: number): string {
	if (fl === 0) return `${MIN_BLOCK}–${SMALL_BLOCK - ALIGN} B, one list per ${ALIGN} B`;
	return `${formatBytes(listMinSize(fl << SL_BITS))}–${formatBytes(listMinSize((fl + 1) << SL_BITS))}`;
}

/** The TLSF bins: FL bitmap, an SL bitmap row per class with list lengths, and the non-empty lists. */
export function binsHtml(heap: Heap, highlight: number | null): string {
	const bins: TlsfBins = tlsfBins(heap);
	const byLi = new Map(bins.lists.map((l) => [l.li, l]));
	const rows: string[] = [];
	const slHead = Array.from({ length: bins.slCount }, (_, sl) => `<th scope="col" class="sl">${sl % 8 === 0 ? sl : ''}</th>`).join('');
	for (let fl = 0; fl < bins.usedFlCount; fl++) {
		const flBit = (bins.flBitmap >>> fl) & 1;
		const cells: string[] = [];
		for (let sl = 0; sl < bins.slCount; sl++) {
			const li = (fl << SL_BITS) | sl;
			const l = byLi.get(li);
			const on = ((bins.slBitmaps[fl] >>> sl) & 1) === 1;
			const cls = `${on ? 'on' : ''}${li === highlight ? ' hl' : ''}`;
			const title = l ? `list (${fl}, ${sl}): ${l.minSize}–${l.maxSize - 1} B, ${l.count} block${l.count === 1 ? '' : 's'}` : `list (${fl}, ${sl}) empty`;
			cells.push(`<td class="${cls.trim()}" title="${html(title)}">${l ? l.count : ''}</td>`);
		}
		rows.push(`<tr><th scope="row" title="${html(classRange(fl))}">${fl}</th><td class="flbit${flBit ? ' on' : ''}">${flBit}</td>${cells.join('')}</tr>`);
	}
	const lists = bins.lists
		.slice(0, 12)
		.map((l) => {
			const shown = l.blocks.slice(0, 4).map((b, i) => `${hex(b)} (${bytes(l.sizes[i])})`).join(' → ');
			const more = l.count > 4 ? ` → … ${l.count - 4} more` : '';
			return `<li><code>(${l.fl}, ${l.sl})</code> ${l.minSize}–${l.maxSize - 1} B: ${shown}${more}</li>`;
		})
		.join('');
	const extra = bins.lists.length > 12 ? `<li>… and ${bins.lists.length - 12} more lists</li>` : '';
	const flBits = bins.flBitmap.toString(2).padStart(bins.usedFlCount, '0');
	return (
		`<p class="bitmap">FL bitmap <code data-fl-bitmap="${bins.flBitmap}">${flBits}</code> <span class="note">(bit fl is set iff class fl has a non-empty list; rightmost is fl 0)</span></p>` +
		'<p class="note" id="bins-caption">SL bitmaps: one row per first-level class fl, one cell per second-level list sl. A filled cell is a set bit; its number is how many blocks that list holds.</p>' +
		`<div class="bins-scroll"><table class="bins" aria-describedby="bins-caption">` +
		`<thead><tr><th scope="col">fl</th><th scope="col">FL</th>${slHead}</tr></thead><tbody>${rows.join('')}</tbody></table></div>` +
		`<ul class="lists" aria-label="non-empty free lists">${lists}${extra}</ul>`
	);
}

/** The details of one block, for the hover and focus panel. */
export function blockHtml(v: BlockView, prev: BlockView | undefined, blocksStart: number): string {
	const rows: [string, string][] = [
		['State', v.state === 'gap' ? 'free (in front of an aligned block: alignment padding)' : v.state],
		['Offset', `${hex(v.block)} (header), +${v.block - blocksStart} B into the blocks area`],
		['Size', `${bytes(v.size)}${v.free ? ', header, links and footer included' : ''}`],
	];
	if (!v.free) {
		rows.push(['Pointer', hex(v.ptr)]);
		rows.push(['Header', '4 B: size and the F, P, A flag bits']);
		if (v.requested !== null) {
			rows.push(['Requested', bytes(v.requested)]);
			rows.push(['Slack', `${bytes(v.usable - v.requested)} (rounding to 8 B, 16 B minimum)`]);
		} else rows.push(['Usable', bytes(v.usable)]);
		if (v.aligned) rows.push(['Alignment', `${v.align} B; a 4 B trailer at the end keeps it`]);
		if (prev?.state === 'gap') rows.push(['Padding', `${bytes(prev.size)} in front, a free block of its own`]);
	}
	return `<dl class="details">${rows.map(([k, val]) => `<div><dt>${k}</dt><dd>${html(val)}</dd></div>`).join('')}</dl>`;
}
