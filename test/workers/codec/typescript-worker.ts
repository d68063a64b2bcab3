import { readdirSync, readFileSync } from 'node:fs';
import ts from 'typescript';

/**
 * Module hooks for a worker thread: modules whose transpiled source was handed over are served at
 * their own file URLs (so their bare imports resolve from the repository as usual), and a relative
 * `.js` import between them is mapped to the `.ts` file, as the compiler maps it.
 */
const HOOKS = `
let sources = {};
export function initialize(data) { sources = data; }
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL in sources) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL).href;
    if (url in sources) return { url, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url in sources) return { format: 'module', source: sources[url], shortCircuit: true };
  return next(url, context);
}
`;

/** Transpiled sources by file URL, per folder, made once per test process. */
const cache = new Map<string, Record<string, string>>();

function transpileFolder(folder: URL): Record<string, string> {
  const cached = cache.get(folder.href);
  if (cached !== undefined) return cached;

  const sources: Record<string, string> = {};
  for (const name of readdirSync(folder)) {
    if (!name.endsWith('.ts') || name.endsWith('.d.ts') || name.endsWith('.test.ts')) continue;
    const url = new URL(name, folder);
    sources[url.href] = ts.transpileModule(readFileSync(url, 'utf8'), {
      fileName: name,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
  }
  cache.set(folder.href, sources);
  return sources;
}

/**
 * `execArgv` for a worker thread (a plain Worker or a Piscina pool) that lets it run the
 * TypeScript modules of the given folders, without a build step: Node 20 cannot load `.ts` itself.
 */
export function typescriptExecArgv(folders: readonly URL[]): string[] {
  const sources = Object.assign({}, ...folders.map(transpileFolder)) as Record<string, string>;
  const hooksUrl = `data:text/javascript,${encodeURIComponent(HOOKS)}`;
  const bootstrap =
    `import { register } from 'node:module';\n` +
    `register(${JSON.stringify(hooksUrl)}, { data: ${JSON.stringify(sources)} });\n`;
  return ['--import', `data:text/javascript,${encodeURIComponent(bootstrap)}`];
}
