// boot.mjs: the entry point of each worker thread (main.ts starts it).
// Node 20 ignores `--import tsx` given in a Worker's execArgv (loader hooks
// in workers came with Node 22.2, nodejs/node#47747), so a worker cannot
// start from a .ts file directly. This plain module registers tsx in the
// worker itself and then loads the real worker code.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
