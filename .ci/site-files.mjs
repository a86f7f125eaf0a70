// Finishes the files of a built site the way cargo-leptos does with `hash-files` and
// `--precompress`: each of parley.{js,wasm,css} gets its content's hash in its name
// (MD5, base64url: parley.<22 characters>.wasm), the list goes beside the server binary
// (hash.txt, read by Leptos and by parley-server at start-up), and with --precompress each
// file gets a brotli (.br) and a gzip (.gz) copy the server sends by Accept-Encoding.
// Node does all of it with its own modules: nothing to install or compile.
//
// Usage: node .ci/site-files.mjs PKG_DIR BIN_DIR [--precompress]
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [pkgDir, binDir, ...flags] = process.argv.slice(2);
if (!pkgDir || !binDir) {
  console.error('usage: node .ci/site-files.mjs PKG_DIR BIN_DIR [--precompress]');
  process.exit(2);
}
const precompress = flags.includes('--precompress');
const name = 'parley';

const lines = [];
for (const ext of ['js', 'wasm', 'css']) {
  const plain = join(pkgDir, `${name}.${ext}`);
  const bytes = readFileSync(plain);
  const hash = createHash('md5').update(bytes).digest('base64url');
  const hashed = join(pkgDir, `${name}.${hash}.${ext}`);
  renameSync(plain, hashed);
  lines.push(`${ext}: ${hash}`);
  if (precompress) {
    writeFileSync(
      `${hashed}.br`,
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    );
    writeFileSync(`${hashed}.gz`, gzipSync(bytes, { level: 9 }));
  }
}
writeFileSync(join(binDir, 'hash.txt'), `${lines.join('\n')}\n`);
console.log(lines.map((line) => `  ${name}.${line.replace(': ', ' → ')}`).join('\n'));
