/**
 * End-to-end test of the playground (`npm run test:e2e`; not part of
 * `npm test`). It builds the page with Vite, serves playground/dist from a
 * tiny node:http server on a free loopback port, and drives Debian's
 * Chromium (/usr/bin/chromium, see scripts/install-chromium.sh) with
 * playwright-core: no browser is downloaded.
 *
 * It allocates and frees through the UI (buttons, clicks and keys) and
 * checks that the map and the stats change as they must, among them that a
 * coalesce leaves one free block where there were three. It loads the
 * sqlite trace in the page and plays it, has Chromium's own XML parser
 * check the SVG the library writes, and saves screenshots under
 * test-results/ at 375, 768 and 1280 px.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { Heap } from '../src/index.js';
import { renderReplaySvg, renderSvg, sampleReplay } from '../src/render/index.js';
import { readTrace } from '../src/trace/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'playground', 'dist');
const RESULTS = join(ROOT, 'test-results');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
	'--disable-dev-shm-usage',
];
const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.svg': 'image/svg+xml',
	'.gz': 'application/gzip',
	'.json': 'application/json',
};

/** Serves `dir` read-only on 127.0.0.1 at a free port. */
function serve(dir: string): Promise<Server> {
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
		const file = resolve(dir, rel === '' ? 'index.html' : rel);
		if (!(file === dir || file.startsWith(dir + sep)) || !existsSync(file)) {
			res.writeHead(404).end('not found');
			return;
		}
		res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
		res.end(readFileSync(file));
	});
	return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

let server: Server;
let browser: Browser;
let base: string;

before(async () => {
	assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-chromium.sh (apt-get install chromium)`);
	const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
	const built = spawnSync(process.execPath, [vite, 'build', 'playground', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
	assert.equal(built.status, 0, `vite build failed:\n${built.stdout}\n${built.stderr}`);
	mkdirSync(RESULTS, { recursive: true });
	server = await serve(DIST);
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
	browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
	await browser?.close();
	await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
});

/** A fresh page at `width` px, failing the test on any page error. */
async function open(width: number): Promise<{ page: Page; errors: string[] }> {
	const page = await browser.newPage({ viewport: { width, height: 900 } });
	const errors: string[] = [];
	page.on('pageerror', (e) => errors.push(e.message));
	page.on('console', (m) => {
		if (m.type() === 'error') errors.push(m.text());
	});
	await page.goto(base);
	await page.waitForSelector('html[data-ready="true"]');
	return { page, errors };
}

/** The blocks the map draws, in order. */
function mapBlocks(page: Page) {
	return page.$$eval('#map g.block', (gs) =>
		gs.map((g) => ({
			block: Number(g.getAttribute('data-block')),
			ptr: Number(g.getAttribute('data-ptr')),
			size: Number(g.getAttribute('data-size')),
			state: g.getAttribute('data-state') as string,
			cls: g.getAttribute('class') as string,
		})),
	);
}

/** The raw number behind a stat. */
async function stat(page: Page, key: string): Promise<number> {
	return Number(await page.getAttribute(`#stats [data-stat="${key}"]`, 'data-value'));
}

/** Allocates through the form; returns the new block's ptr (the selection). */
async function allocate(page: Page, size: number, align = 8): Promise<number> {
	const before = new Set((await mapBlocks(page)).filter((b) => b.state === 'allocated').map((b) => b.ptr));
	await page.fill('#alloc-size', String(size));
	await page.selectOption('#alloc-align', String(align));
	await page.click('#alloc');
	const now = (await mapBlocks(page)).filter((b) => b.state === 'allocated' && !before.has(b.ptr));
	assert.equal(now.length, 1, `one new block after allocating ${size}`);
	return now[0].ptr;
}

const blockSel = (ptr: number) => `#map g.block[data-ptr="${ptr}"]`;
/** Clicks a block on its first rect (a block that wraps across rows has its bbox centre between them). */
const clickBlock = (page: Page, ptr: number) => page.locator(`${blockSel(ptr)} rect`).first().click();

describe('playground', () => {
	test('allocate A, B, C; free A and C; free B: three blocks coalesce into one free block', async () => {
		const { page, errors } = await open(1280);
		const fresh = await mapBlocks(page);
		assert.equal(fresh.length, 1, 'a fresh heap is one free block');
		assert.equal(fresh[0].state, 'free');
		const area = fresh[0].size;
		assert.equal(await stat(page, 'used'), 0);
		assert.equal(await stat(page, 'freeBlocks'), 1);
		// The map is in the tab order, right after the controls.
		await page.focus('#realloc-size');
		await page.keyboard.press('Tab');
		assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('class')), 'block free');

		const a = await allocate(page, 40);
		const b = await allocate(page, 40);
		const c = await allocate(page, 40);
		let blocks = await mapBlocks(page);
		assert.deepEqual(
			blocks.map((x) => x.state),
			['allocated', 'allocated', 'allocated', 'free'],
		);
		assert.deepEqual(
			blocks.slice(0, 3).map((x) => [x.ptr, x.size]),
			[
				[a, 48],
				[b, 48],
				[c, 48],
			],
			'each 40-byte request takes a 48-byte block, in address order',
		);
		assert.ok(blocks[1].cls.includes('flash-split') || blocks[2].cls.includes('flash-split'), 'the split flashes');
		assert.equal(await stat(page, 'used'), 3 * 44, 'used = usable bytes of three 48-byte blocks');
		assert.equal(await stat(page, 'requested'), 120);
		assert.equal(await stat(page, 'liveBlocks'), 3);
		assert.ok(Math.abs((await stat(page, 'internal')) - 12 / 132) < 1e-9, 'internal fragmentation = slack / usable');

		// Free A with a click and the Free button.
		await clickBlock(page, a);
		await page.click('#free');
		// Free C with the keyboard: focus it and press Delete.
		await page.focus(blockSel(c));
		await page.keyboard.press('Delete');
		blocks = await mapBlocks(page);
		assert.deepEqual(
			blocks.map((x) => x.state),
			['free', 'allocated', 'free'],
			'A is free; C merged with the free tail',
		);
		assert.ok(blocks[2].cls.includes('flash-merge'), 'the merged block flashes');
		assert.equal(await stat(page, 'freeBlocks'), 2);
		assert.ok((await stat(page, 'external')) > 0, 'two free pieces: external fragmentation');

		// Free B from the keyboard too: the focus sits on the merged free block; ArrowLeft moves to B.
		await page.keyboard.press('ArrowLeft');
		assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-ptr')), String(b));
		await page.keyboard.press('Delete');
		blocks = await mapBlocks(page);
		assert.equal(blocks.length, 1, 'one block left');
		assert.equal(blocks[0].state, 'free');
		assert.equal(blocks[0].size, area, 'the free block covers the whole area again');
		assert.ok(blocks[0].cls.includes('flash-merge'));
		assert.equal(await stat(page, 'freeBlocks'), 1);
		assert.equal(await stat(page, 'used'), 0);
		assert.equal(await stat(page, 'external'), 0);
		// Screen readers see each block as a button named by its tooltip.
		assert.equal(await page.getByRole('button', { name: /^block 0x[0-9a-f]+, [0-9,]+ B: free/ }).count(), 1);
		assert.match((await page.textContent('#log li:first-child')) ?? '', /merged with both free neighbours/);
		assert.equal(await page.getAttribute('#c-coalescing', 'class'), 'concept lit');
		assert.deepEqual(errors, []);
		await page.close();
	});

	test('alignment, realloc and a failed allocation are shown and explained', async () => {
		const { page, errors } = await open(1280);
		const p = await allocate(page, 100, 256);
		assert.equal(p % 256, 0, 'the pointer is 256-aligned');
		let blocks = await mapBlocks(page);
		const i = blocks.findIndex((x) => x.ptr === p);
		assert.equal(blocks[i - 1].state, 'gap', 'the padding in front is a free block, drawn as such');
		assert.match((await page.textContent('#log li:first-child')) ?? '', /alignedAlloc\(256, 100\)/);
		// Hovering shows the block's details.
		await page.locator(`${blockSel(p)} rect`).first().hover();
		const info = (await page.textContent('#block-info')) ?? '';
		assert.match(info, /Alignment\s*256 B/);
		assert.match(info, /Padding/);
		// Realloc it smaller: it shrinks in place and the tail is split off.
		await clickBlock(page, p);
		await page.fill('#realloc-size', '20');
		await page.click('#realloc');
		blocks = await mapBlocks(page);
		assert.ok(blocks.some((x) => x.ptr === p && x.state === 'allocated'), 'same pointer');
		assert.match((await page.textContent('#log li:first-child')) ?? '', /shrank in place/);
		// A request larger than the heap fails with 0 and says why.
		await page.fill('#alloc-size', '100000');
		await page.click('#alloc');
		assert.match((await page.textContent('#log li:first-child')) ?? '', /returned 0/);
		assert.deepEqual(errors, []);
		await page.close();
	});

	test('the sqlite trace loads, plays and scrubs', async () => {
		const { page, errors } = await open(1280);
		await page.check('#mode-trace');
		await page.waitForSelector('#trace-controls:not([hidden])', { timeout: 60_000 });
		await page.waitForSelector('#timeline svg');
		const liveAtPeak = await stat(page, 'liveBlocks');
		assert.ok(liveAtPeak > 1000, `the heap at the peak holds many blocks (${liveAtPeak})`);
		const pos0 = Number(await page.inputValue('#scrub'));
		assert.ok(pos0 > 0);
		await page.screenshot({ path: join(RESULTS, 'playground-trace-1280.png'), fullPage: true, animations: 'disabled' });
		await page.click('#play');
		await page.waitForTimeout(700);
		await page.click('#play');
		const pos1 = Number(await page.inputValue('#scrub'));
		assert.ok(pos1 > pos0, `playing moves forward (${pos0} → ${pos1})`);
		// Scrub back to the start: an empty heap.
		await page.$eval('#scrub', (el) => {
			(el as HTMLInputElement).value = '0';
			el.dispatchEvent(new Event('input', { bubbles: true }));
		});
		await page.waitForFunction(() => document.querySelectorAll('#map g.block').length === 1);
		assert.equal(await stat(page, 'liveBlocks'), 0);
		await page.click('#step');
		assert.equal(await stat(page, 'liveBlocks'), 1, 'one op later: one live block');
		assert.deepEqual(errors, []);
		await page.close();
	});

	test("Chromium's XML parser accepts the SVG the library writes", async () => {
		const heap = new Heap({ size: 16 * 1024 });
		const requested = new Map<number, number>();
		for (const n of [1, 13, 100, 7]) requested.set(heap.malloc(n), n);
		requested.set(heap.alignedAlloc(512, 50), 50);
		const trace = await readTrace('a 1 10\na 2 20\nf 1\na 3 300\n');
		const { series } = sampleReplay(trace, new Heap({ size: 16 * 1024 }));
		const docs = [renderSvg(heap, { requested, title: '<&> "quoted"' }), renderReplaySvg(heap, series, requested)];
		const imgDir = join(ROOT, 'docs', 'img');
		if (existsSync(imgDir)) for (const f of readdirSync(imgDir).filter((n) => n.endsWith('.svg'))) docs.push(readFileSync(join(imgDir, f), 'utf8'));
		const page = await browser.newPage();
		const results = await page.evaluate((texts) => {
			return texts.map((t) => {
				const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
				const err = doc.getElementsByTagName('parsererror')[0];
				return err ? err.textContent : doc.documentElement.nodeName;
			});
		}, docs);
		assert.deepEqual(results, docs.map(() => 'svg'));
		await page.close();
	});

	for (const width of [375, 768, 1280]) {
		test(`looks right at ${width} px: no horizontal overflow, screenshot saved`, async () => {
			const { page, errors } = await open(width);
			for (const [n, al] of [
				[40, 8],
				[200, 8],
				[13, 8],
				[64, 64],
				[500, 8],
				[24, 8],
			]) {
				await allocate(page, n, al);
			}
			const blocks = await mapBlocks(page);
			const alloc = blocks.filter((b) => b.state === 'allocated');
			await clickBlock(page, alloc[1].ptr);
			await page.click('#free');
			await clickBlock(page, alloc[4].ptr);
			await page.keyboard.press('Tab'); // focus leaves the map; the selection stays
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
			assert.ok(overflow <= 0, `no horizontal scrolling at ${width} px (overflow ${overflow} px)`);
			const svgWidth = await page.$eval('#map svg', (s) => s.getBoundingClientRect().width);
			const boxWidth = await page.$eval('#map', (m) => m.getBoundingClientRect().width);
			assert.ok(svgWidth <= boxWidth + 1, 'the map fits its panel');
			// The focus ring is visible on a focused block.
			await page.focus(blockSel(alloc[0].ptr));
			const stroke = await page.$eval(`${blockSel(alloc[0].ptr)} rect`, (r) => getComputedStyle(r).stroke);
			assert.notEqual(stroke, 'none', 'a focused block is outlined');
			await page.screenshot({ path: join(RESULTS, `playground-${width}.png`), fullPage: true, animations: 'disabled' });
			assert.deepEqual(errors, []);
			await page.close();
		});
	}
});
