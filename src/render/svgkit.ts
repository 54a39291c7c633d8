/**
 * svgkit.ts: the small pieces every SVG renderer here shares: escaping,
 * number and byte formatting, axis ticks, the palette, and the panel type
 * that lets a heap map and a timeline be stacked into one document.
 * Uses no Node API.
 */

/** Colours of the heap map parts and the timeline curves (readable on white, distinct in greyscale). */
export const PALETTE = {
	header: '#1e3a5f',
	payload: '#3b82f6',
	slack: '#f59e0b',
	trailer: '#9333ea',
	free: '#e5e7eb',
	gap: '#e5e7eb',
	gapHatch: '#9333ea',
	cached: '#86efac',
	internal: '#475569',
	unknown: '#dc2626',
	rowBackground: '#f9fafb',
	rowOutline: '#9ca3af',
	text: '#111827',
	muted: '#4b5563',
	grid: '#e5e7eb',
	live: '#2563eb',
	used: '#0891b2',
	footprint: '#111827',
	freeBytes: '#6b7280',
	largestFree: '#16a34a',
	externalFragmentation: '#dc2626',
	marker: '#dc2626',
} as const;

/** Font stack used by every text element. */
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif';

/** Escapes text for an XML attribute value or text node. */
export function esc(text: string): string {
	return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A coordinate with at most 3 decimals and no trailing zeros ("12.5", "3"). */
export function num(n: number): string {
	const r = Math.round(n * 1000) / 1000;
	return Object.is(r, -0) ? '0' : String(r);
}

/**
 * 1536 → "1.5 KiB"; below 1 KiB "123 B". Three significant digits at most,
 * or exactly `decimals` decimals when given ("58.0 KiB").
 */
export function formatBytes(n: number, decimals?: number): string {
	if (Math.abs(n) < 1024) return `${Math.round(n)} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let v = n / 1024;
	let u = 0;
	while (Math.abs(v) >= 1024 && u < units.length - 1) {
		v /= 1024;
		u++;
	}
	if (decimals !== undefined) return `${v.toFixed(decimals)} ${units[u]}`;
	return `${Number(v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))} ${units[u]}`;
}

/** 12345678 → "12,345,678". */
export function formatInt(n: number): string {
	return Math.round(n).toLocaleString('en-US');
}

/** 411428 → "411k", 1500000 → "1.5M". */
export function formatCount(n: number): string {
	if (n < 1000) return String(n);
	if (n < 1e6) return `${Number((n / 1e3).toFixed(1))}k`;
	return `${Number((n / 1e6).toFixed(2))}M`;
}

/** An address as "0x" and hex digits. */
export function hex(n: number): string {
	return `0x${n.toString(16)}`;
}

/** A 0..1 ratio as "12.3 %". */
export function percent(r: number): string {
	return `${(r * 100).toFixed(1)} %`;
}

/**
 * Evenly spaced "nice" tick values (1, 2 or 5 × a power of 10, or a power of
 * 2 when `binary`), about `count` of them, from 0 up to `max` (`cover`:
 * up to the first tick at or above `max`).
 */
export function niceTicks(max: number, count: number, binary = false, cover = false): number[] {
	if (!(max > 0)) return [0];
	const raw = max / Math.max(1, count);
	let step: number;
	if (binary && raw >= 1) {
		step = 2 ** Math.ceil(Math.log2(raw));
	} else {
		const p = 10 ** Math.floor(Math.log10(raw));
		const f = raw / p;
		step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
	}
	const ticks: number[] = [];
	for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(v);
	if (cover && ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
	return ticks;
}

/** One drawing of a document: its size and its elements (no `<svg>` wrapper). */
export interface Panel {
	width: number;
	height: number;
	/** Text for the document's `<title>`. */
	title: string;
	/** Text for the document's `<desc>`. */
	desc: string;
	/** `<defs>` content (patterns), or ''. */
	defs: string;
	/** The drawing's elements. */
	body: string;
}

/** The opening `<svg>` tag of a standalone document of `width` × `height`. */
function openSvg(width: number, height: number, id: string, role: string, extra = ''): string {
	return (
		`<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" ` +
		`viewBox="0 0 ${num(width)} ${num(height)}" role="${role}" aria-labelledby="${id}-title ${id}-desc" ` +
		`font-family="${esc(FONT)}" font-size="12" fill="${PALETTE.text}"${extra}>`
	);
}

/**
 * A standalone SVG document of `panels` stacked top to bottom, each in its
 * own nested `<svg>` at its offset. `role` is `img` for a picture, `group`
 * when the drawing has interactive parts; `extra` is added to the root tag's
 * attributes; `declaration` starts the text with an XML declaration (leave it
 * out for SVG put inline in HTML).
 */
export function svgDocument(panels: Panel[], id: string, title: string, role = 'img', extra = '', declaration = true): string {
	const width = Math.max(...panels.map((p) => p.width));
	const height = panels.reduce((h, p) => h + p.height, 0);
	const desc = panels.map((p) => p.desc).join(' ');
	const out = [
		...(declaration ? ['<?xml version="1.0" encoding="UTF-8"?>'] : []),
		openSvg(width, height, id, role, extra),
		`<title id="${id}-title">${esc(title)}</title>`,
		`<desc id="${id}-desc">${esc(desc)}</desc>`,
	];
	const defs = panels.map((p) => p.defs).join('');
	if (defs !== '') out.push(`<defs>${defs}</defs>`);
	out.push(`<rect width="${num(width)}" height="${num(height)}" fill="#ffffff"/>`);
	let y = 0;
	for (const p of panels) {
		if (panels.length === 1) out.push(p.body);
		else out.push(`<svg x="0" y="${num(y)}" width="${num(p.width)}" height="${num(p.height)}" viewBox="0 0 ${num(p.width)} ${num(p.height)}">${p.body}</svg>`);
		y += p.height;
	}
	out.push('</svg>');
	return `${out.join('\n')}\n`;
}
