/**
 * Vite config of the playground: `npm run playground` serves it,
 * `npm run build:playground` writes static files to playground/dist.
 * The bundled traces (../traces) are served as static files beside the page.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
	root: here,
	base: './',
	publicDir: fileURLToPath(new URL('../traces', import.meta.url)),
	build: {
		outDir: 'dist',
		emptyOutDir: true,
		target: 'es2022',
	},
	server: { port: 5173 },
	preview: { port: 4173 },
});
