// Finishes the files of a built site the way cargo-leptos does with `hash-files` and
// `--precompress`: each file of the package gets its content's hash in its name (MD5,
// base64url: parley.<22 characters>.wasm), the list of the main ones goes beside the server
// binary (hash.txt, read by Leptos and by parley-server at start-up), and with --precompress
// each file gets a brotli (.br) and a gzip (.gz) copy the server sends by Accept-Encoding.
// The pieces of the WASM that load on demand (split_*.wasm, chunk_*.wasm) are named by
// their hash in the script that fetches them (__wasm_split.js). That script and parley.js
// import each other, so neither name can be the hash of a text holding the other's: the
// script is named by the hash of everything that decides its text (every WASM file and
// parley.js before the names were written in), parley.js by its own.
// Each piece's files (its own and the chunks it shares with others, as the loader fetches
// them) go in pieces.json in the package, so a page can name in its head what it will
// need: the loader's text before it was minified says it (--loader-source, the package's
// own loader by default).
// Node does all of it with its own modules: nothing to install or compile.
//
// Usage: node .ci/site-files.mjs PKG_DIR BIN_DIR [--precompress] [--loader-source FILE]
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [pkgDir, binDir, ...flags] = process.argv.slice(2);
if (!pkgDir || !binDir) {
  console.error('usage: node .ci/site-files.mjs PKG_DIR BIN_DIR [--precompress] [--loader-source FILE]');
  process.exit(2);
}
const precompress = flags.includes('--precompress');
const sourceFlag = flags.indexOf('--loader-source');
const name = 'parley';
const hashOf = (...parts) => {
  const md5 = createHash('md5');
  for (const part of parts) md5.update(part);
  return md5.digest('base64url');
};
const read = (file) => readFileSync(join(pkgDir, file));
const written = [];
// Writes a file under its hashed name (and its compressed copies), and removes the plain one.
const put = (plain, hashed, bytes) => {
  rmSync(join(pkgDir, plain));
  const path = join(pkgDir, hashed);
  writeFileSync(path, bytes);
  written.push(`  ${plain} → ${hashed} (${bytes.length} bytes)`);
  if (precompress) {
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    );
    writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  }
};
const replaceAll = (text, names) =>
  Object.entries(names).reduce((t, [from, to]) => t.split(`"./${from}"`).join(`"./${to}"`).split(`'./${from}'`).join(`'./${to}'`), text);

const pieces = readdirSync(pkgDir).filter((f) => /^(split|chunk)_.+\.wasm$/.test(f)).sort();
const loader = '__wasm_split.js';
const hasLoader = existsSync(join(pkgDir, loader));
const names = {};
for (const piece of pieces) {
  const bytes = read(piece);
  const hashed = piece.replace(/\.wasm$/, `.${hashOf(bytes)}.wasm`);
  names[piece] = hashed;
  put(piece, hashed, bytes);
}

const wasm = read(`${name}.wasm`);
const wasmHash = hashOf(wasm);
let js = read(`${name}.js`).toString();
const lines = [`wasm: ${wasmHash}`];
if (hasLoader) {
  const loaderHash = hashOf(wasm, ...pieces.map((p) => readFileSync(join(pkgDir, names[p]))), js, read(loader));
  names[loader] = `__wasm_split.${loaderHash}.js`;
  // Only where parley.js imports it: the same name is also the key its WASM imports by.
  js = js.replace(/(from\s*)(["'])\.\/__wasm_split\.js\2/g, (_, from, q) => `${from}${q}./${names[loader]}${q}`);
  lines.push(`split: ${loaderHash}`);
}
// Every piece's files by its split's name, as the loader wasm-split writes fetches them:
//   const __chunk_4 = makeLoad(() => { const src = fetch(new URL("./chunk_4.wasm", …)); … }, []);
//   export const __wasm_split_load_chat_page = wrapAsyncCb(makeLoad(() => { … new URL("./split_chat_page.wasm", …) … }, [__chunk_4, __chunk_5]));
// A loader this does not understand fails the build rather than leave the pages without.
const piecesOf = (source) => {
  const chunks = {};
  for (const [, variable, file] of source.matchAll(/const (__chunk_\d+) = makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([\w.-]+\.wasm)"/g)) {
    chunks[variable] = file;
  }
  const found = {};
  for (const [, split, fetcher, deps] of source.matchAll(/export const __wasm_split_load_(\w+) = wrapAsyncCb\(makeLoad\(([\s\S]*?), \[([\w, ]*)\]\)\);/g)) {
    const own = fetcher.match(/new URL\("\.\/([\w.-]+\.wasm)"/)?.[1];
    const shared = deps.split(',').map((d) => d.trim()).filter(Boolean);
    const files = [...(own ? [own] : []), ...shared.map((d) => chunks[d])];
    if (files.some((file) => !file || !names[file])) throw new Error(`the loader's piece ${split} names a file the package lacks`);
    found[split] = files.map((file) => names[file]);
  }
  if (pieces.length > 0 && Object.keys(found).length === 0) throw new Error("no piece found in the loader's text");
  return found;
};
if (hasLoader) {
  const source = readFileSync(sourceFlag >= 0 ? flags[sourceFlag + 1] : join(pkgDir, loader)).toString();
  writeFileSync(join(pkgDir, 'pieces.json'), `${JSON.stringify(piecesOf(source), null, 1)}\n`);
}
const jsHash = hashOf(js);
names[`${name}.js`] = `${name}.${jsHash}.js`;
lines.unshift(`js: ${jsHash}`);
if (hasLoader) put(loader, names[loader], Buffer.from(replaceAll(read(loader).toString(), names)));
put(`${name}.js`, names[`${name}.js`], Buffer.from(js));
put(`${name}.wasm`, `${name}.${wasmHash}.wasm`, wasm);
const css = read(`${name}.css`);
const cssHash = hashOf(css);
put(`${name}.css`, `${name}.${cssHash}.css`, css);
lines.push(`css: ${cssHash}`);

writeFileSync(join(binDir, 'hash.txt'), `${lines.join('\n')}\n`);
console.log(written.join('\n'));
