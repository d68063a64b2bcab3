import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { printTable } from './table.js';

/**
 * Runs every `*.bench.js` beside this file (or those named on the command line), prints
 * their figures and writes them all to bench/results/latest.json.
 */
const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.js'))
  .filter((name) => wanted.length === 0 || wanted.some((w) => name.startsWith(w)))
  .sort();

const results: Record<string, Record<string, number>> = {};
for (const file of files) {
  const name = file.replace(/\.bench\.js$/, '');
  const module = (await import(pathToFileURL(join(here, file)).href)) as {
    run: () => Promise<Record<string, number>>;
  };
  results[name] = await module.run();
  printTable(name, results[name]);
}

const out = join(here, '..', '..', 'bench', 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({ node: process.version, at: new Date().toISOString(), results }, null, 2) + '\n',
);
console.log(`\nwrote ${out}`);
