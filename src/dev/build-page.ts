/**
 * Builds the demo page of `voicebridge dev` into `dist/page`: the script (matrix-js-sdk and
 * its Rust crypto) bundled with esbuild, the HTML, and the crypto's WebAssembly, put where
 * the bundled crypto asks for it (`pkg/` beside the script). Run by `npm run build`.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

/** The repository root, from `dist/src/dev/`. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = join(ROOT, 'src/dev/page');
const OUT = join(ROOT, 'dist/page');
/** The WebAssembly file of the crypto package, relative to that package. */
const CRYPTO_WASM = 'pkg/matrix_sdk_crypto_wasm_bg.wasm';

async function buildPage(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(SOURCE, 'demo-call.ts')],
    outfile: join(OUT, 'demo-call.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    sourcemap: true,
    minify: true,
    metafile: true,
    logLevel: 'warning',
    tsconfig: join(SOURCE, 'tsconfig.json'),
  });

  // The crypto loads its WebAssembly from `new URL('./pkg/...', import.meta.url)`, which
  // esbuild leaves alone: copy the file of the very package version that was bundled.
  const cryptoEntry = Object.keys(result.metafile.inputs).find((input) =>
    /@matrix-org\/matrix-sdk-crypto-wasm\/index\.mjs$/.test(input),
  );
  if (cryptoEntry === undefined) {
    throw new Error('the page bundle has no @matrix-org/matrix-sdk-crypto-wasm in it');
  }
  const wasm = join(ROOT, dirname(cryptoEntry), CRYPTO_WASM);
  mkdirSync(join(OUT, 'pkg'), { recursive: true });
  copyFileSync(wasm, join(OUT, CRYPTO_WASM));
  copyFileSync(join(SOURCE, 'index.html'), join(OUT, 'index.html'));
  process.stdout.write(
    `page built in ${relative(ROOT, OUT)} (crypto from ${relative(ROOT, wasm)})\n`,
  );
}

await buildPage();
