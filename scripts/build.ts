// `npm run build` (and `npm start`, before it starts): bundles the server into dist/server.mjs, writes its
// launcher dist/easel.mjs, and copies the web app to dist/web. Node then reads and compiles one file instead of
// ~1,600 modules and ~80 type-stripped sources, which is most of the cold start (BENCHMARKS.md, E), and with
// the compile cache the launcher turns on, a restart does not even compile that. `npm run dev` runs the sources.
//
// dist/ needs node_modules beside it at run time, for the packages left out of the bundle (EXTERNAL).
// Files are replaced by rename, so a server starting while another build runs reads either the old file or
// the new one, never half of one.
import fs from 'node:fs';
import path from 'node:path';
import { rolldown } from 'rolldown';

const ROOT = path.resolve(import.meta.dirname, '..');
export const DIST = path.join(ROOT, 'dist');
export const LAUNCHER = path.join(DIST, 'easel.mjs');
const ENTRY = path.join(ROOT, 'src/main.ts');
const WEB_SOURCE = path.join(ROOT, 'src/web');
const WEB_COPY = path.join(DIST, 'web');

/**
 * Packages loaded from node_modules at run time rather than bundled: native addons (better-sqlite3, sharp),
 * one that serves files from its own folder (@fastify/swagger-ui), and the optional ones imported only when
 * configured (pg-native by pg, pino-pretty on a terminal, the S3 store, Redis), which stay off a default start.
 */
const EXTERNAL = ['better-sqlite3', 'sharp', '@fastify/swagger-ui', 'pg-native', 'pino-pretty', '@aws-sdk/client-s3', 'ioredis'];

/**
 * The entry `npm start` runs. Node's compile cache (V8's compiled code, kept in $TMPDIR/node-compile-cache, or
 * NODE_COMPILE_CACHE; off with NODE_DISABLE_COMPILE_CACHE=1) must be on before the bundle is compiled, so it
 * is turned on here, one module ahead. Without a writable cache directory Node simply goes without.
 */
const LAUNCHER_CODE = `// Written by scripts/build.ts: starts the server bundle with Node's compile cache on.
import * as nodeModule from 'node:module';

nodeModule.enableCompileCache?.();
await import('./server.mjs');
// Saved now rather than at exit, so that a server killed rather than stopped still leaves it for the next start.
nodeModule.flushCompileCache?.();
`;

const isExternal = (id: string) => EXTERNAL.some((name) => id === name || id.startsWith(`${name}/`));

/** Writes through a temporary name and a rename, so a reader never sees a partly written file. */
function replaceFile(file: string, contents: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

/** Every file under dir, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

/** Makes dir hold exactly these files, written in the order given; files no longer built are removed. */
function syncFiles(dir: string, files: Array<[relative: string, contents: string | Buffer]>, keep: (relative: string) => boolean = () => false): void {
  for (const [relative, contents] of files) replaceFile(path.join(dir, relative), contents);
  const wanted = new Set(files.map(([relative]) => relative));
  for (const stale of filesUnder(dir)) {
    if (!wanted.has(stale) && !keep(stale) && !stale.endsWith('.tmp')) fs.rmSync(path.join(dir, stale), { force: true });
  }
}

/** Bundles src/main.ts into dist/server.mjs (plus a chunk per lazily imported module), writes the launcher, copies src/web. */
export async function build(): Promise<{ files: string[]; ms: number }> {
  const started = performance.now();
  const bundle = await rolldown({ input: ENTRY, cwd: ROOT, platform: 'node', external: isExternal, logLevel: 'warn' });
  let output;
  try {
    // Lazily imported sources (the S3 store) stay in chunks of their own, so their packages load only when used.
    ({ output } = await bundle.generate({ format: 'esm', entryFileNames: 'server.mjs', chunkFileNames: '[name].mjs' }));
  } finally {
    await bundle.close();
  }
  // Entries last: a file must never name one not yet written.
  const isEntry = (item: (typeof output)[number]) => item.type === 'chunk' && item.isEntry;
  const code = [...output]
    .sort((a, b) => Number(isEntry(a)) - Number(isEntry(b)))
    .map((item): [string, string | Buffer] => [item.fileName, item.type === 'chunk' ? item.code : Buffer.from(item.source)]);
  code.push([path.basename(LAUNCHER), LAUNCHER_CODE]);
  syncFiles(DIST, code, (relative) => relative.startsWith(`web${path.sep}`));
  syncFiles(WEB_COPY, filesUnder(WEB_SOURCE).map((relative) => [relative, fs.readFileSync(path.join(WEB_SOURCE, relative))]));
  return { files: code.map(([relative]) => relative), ms: performance.now() - started };
}

if (import.meta.main) {
  const { files, ms } = await build();
  process.stderr.write(`built ${files.map((f) => path.join('dist', f)).join(', ')} and dist/web in ${Math.round(ms)} ms\n`);
}
