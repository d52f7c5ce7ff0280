// Fails the build when the JavaScript loaded at start (the entry chunk and every chunk it
// imports statically) exceeds the budget, gzipped. Lazy routes (import()) are not counted.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET = Number(process.env.CONSOLE_JS_BUDGET_KB ?? 250) * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));

const seen = new Set();
function walk(key) {
  if (seen.has(key)) return;
  seen.add(key);
  for (const dep of manifest[key].imports ?? []) walk(dep);
}
for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) walk(key);

let total = 0;
const rows = [];
for (const key of seen) {
  const file = manifest[key].file;
  if (!file.endsWith('.js')) continue;
  const size = gzipSync(readFileSync(join(dist, file))).length;
  total += size;
  rows.push(`  ${(size / 1024).toFixed(1).padStart(7)} KB  ${file}`);
}
console.log(`initial JavaScript, gzipped:\n${rows.join('\n')}\n  ${(total / 1024).toFixed(1).padStart(7)} KB  total (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error(`bundle budget exceeded by ${((total - BUDGET) / 1024).toFixed(1)} KB: lazy-load heavy routes`);
  process.exit(1);
}
