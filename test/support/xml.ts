/**
 * xml.ts (test support): a strict XML 1.0 well-formedness check for the SVG
 * the renderers write, returning a small element tree to query.
 *
 * It checks what a renderer can get wrong: one root element, every tag
 * closed in order, names well formed, attributes quoted and not repeated,
 * no raw `<` in an attribute, every `&` a known entity or character
 * reference, no `]]>` in text, nothing but whitespace, comments and
 * processing instructions outside the root. DOCTYPEs are refused (the
 * renderers never write one). The e2e test also feeds SVG to Chromium's
 * XML parser.
 */

/** An element of the parsed tree. */
export interface XmlElement {
	name: string;
	attrs: Record<string, string>;
	children: XmlElement[];
	/** Text directly inside the element, entities decoded. */
	text: string;
	parent: XmlElement | null;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));/y;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the entities of `raw`; throws on a bare `&` or an unknown entity. */
function decode(raw: string, where: string): string {
	let out = '';
	let i = 0;
	for (;;) {
		const amp = raw.indexOf('&', i);
		if (amp < 0) return out + raw.slice(i);
		out += raw.slice(i, amp);
		ENTITY.lastIndex = amp;
		const m = ENTITY.exec(raw);
		if (m === null) throw new Error(`xml: bad '&' in ${where}: ${JSON.stringify(raw.slice(amp, amp + 12))}`);
		if (m[1] !== undefined) out += NAMED[m[1]];
		else {
			const code = m[2] !== undefined ? Number(m[2]) : Number.parseInt(m[3], 16);
			const ok = code === 9 || code === 10 || code === 13 || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
			if (!ok) throw new Error(`xml: character reference ${m[0]} is not an XML character`);
			out += String.fromCodePoint(code);
		}
		i = ENTITY.lastIndex;
	}
}

/** Parses the attributes of a start tag's inside (after its name). */
function parseAttrs(src: string, tag: string): Record<string, string> {
	const attrs: Record<string, string> = {};
	const re = /\s+([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/y;
	let i = 0;
	while (i < src.length) {
		if (/^\s*$/.test(src.slice(i))) break;
		re.lastIndex = i;
		const m = re.exec(src);
		if (m === null) throw new Error(`xml: malformed attributes in <${tag}>: ${JSON.stringify(src.slice(i, i + 40))}`);
		const [, name, , dq, sq] = m;
		if (!NAME.test(name)) throw new Error(`xml: bad attribute name '${name}' in <${tag}>`);
		if (Object.hasOwn(attrs, name)) throw new Error(`xml: attribute '${name}' repeated in <${tag}>`);
		const raw = dq ?? sq;
		if (raw.includes('<')) throw new Error(`xml: '<' in attribute '${name}' of <${tag}>`);
		attrs[name] = decode(raw, `attribute '${name}' of <${tag}>`);
		i = re.lastIndex;
	}
	return attrs;
}

/** Parses `text` as a well-formed XML document, or throws saying what is wrong. */
export function parseXml(text: string): XmlElement {
	let i = 0;
	let root: XmlElement | null = null;
	let open: XmlElement | null = null;
	const closedRoot = () => root !== null && open === null;
	while (i < text.length) {
		const lt = text.indexOf('<', i);
		const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
		if (chunk.length > 0) {
			if (open === null) {
				if (!/^\s*$/.test(chunk)) throw new Error(`xml: text outside the root element: ${JSON.stringify(chunk.slice(0, 30))}`);
			} else {
				if (chunk.includes(']]>')) throw new Error("xml: ']]>' in text");
				open.text += decode(chunk, `text of <${open.name}>`);
			}
		}
		if (lt < 0) break;
		if (text.startsWith('<!--', lt)) {
			const end = text.indexOf('-->', lt + 4);
			if (end < 0) throw new Error('xml: unterminated comment');
			if (text.slice(lt + 4, end).includes('--')) throw new Error("xml: '--' inside a comment");
			i = end + 3;
		} else if (text.startsWith('<?', lt)) {
			const end = text.indexOf('?>', lt + 2);
			if (end < 0) throw new Error('xml: unterminated processing instruction');
			if (text.startsWith('<?xml', lt) && /\s/.test(text[lt + 5]) && lt !== 0) throw new Error('xml: XML declaration not at the very start');
			i = end + 2;
		} else if (text.startsWith('<![CDATA[', lt)) {
			if (open === null) throw new Error('xml: CDATA outside the root element');
			const end = text.indexOf(']]>', lt + 9);
			if (end < 0) throw new Error('xml: unterminated CDATA');
			open.text += text.slice(lt + 9, end);
			i = end + 3;
		} else if (text.startsWith('<!', lt)) {
			throw new Error('xml: DOCTYPE or other declaration (not expected in heapfit SVG)');
		} else if (text.startsWith('</', lt)) {
			const end = text.indexOf('>', lt);
			if (end < 0) throw new Error('xml: unterminated end tag');
			const name = text.slice(lt + 2, end).trim();
			if (open === null || open.name !== name) throw new Error(`xml: </${name}> does not close <${open?.name ?? '(nothing)'}>`);
			open = open.parent;
			i = end + 1;
		} else {
			// A start tag: find its '>' outside quoted attribute values.
			let j = lt + 1;
			let quote = '';
			for (; j < text.length; j++) {
				const c = text[j];
				if (quote !== '') {
					if (c === quote) quote = '';
				} else if (c === '"' || c === "'") quote = c;
				else if (c === '>') break;
				else if (c === '<') throw new Error(`xml: '<' inside a tag at ${lt}`);
			}
			if (j >= text.length) throw new Error('xml: unterminated start tag');
			let inner = text.slice(lt + 1, j);
			const selfClosing = inner.endsWith('/');
			if (selfClosing) inner = inner.slice(0, -1);
			const nameEnd = inner.search(/[\s]|$/);
			const name = inner.slice(0, nameEnd);
			if (!NAME.test(name)) throw new Error(`xml: bad element name '${name}'`);
			if (closedRoot() || (root !== null && open === null)) throw new Error(`xml: second root element <${name}>`);
			const el: XmlElement = { name, attrs: parseAttrs(inner.slice(nameEnd), name), children: [], text: '', parent: open };
			if (open === null) root = el;
			else open.children.push(el);
			if (!selfClosing) open = el;
			i = j + 1;
		}
	}
	if (root === null) throw new Error('xml: no root element');
	if (open !== null) throw new Error(`xml: <${(open as XmlElement).name}> is never closed`);
	return root;
}

/** Every element under (and including) `el` for which `pred` holds, in document order. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
	const out: XmlElement[] = [];
	const visit = (e: XmlElement) => {
		if (pred(e)) out.push(e);
		for (const c of e.children) visit(c);
	};
	visit(el);
	return out;
}

/** Whether `el` has `cls` among its classes. */
export function hasClass(el: XmlElement, cls: string): boolean {
	return (el.attrs.class ?? '').split(/\s+/).includes(cls);
}
