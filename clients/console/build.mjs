// Builds the console into internal/console/assets (embedded in fedid by
// go:embed): src/main.js and its imports bundled by esbuild into
// console.js, src/index.html and src/console.css copied. The bundle's first
// line names the SHA-256 of its sources (src/*, package-lock.json and this
// file), which internal/console's Go test recomputes: a bundle not rebuilt
// after a change of its sources fails go test.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, "../../internal/console/assets");

/** sourcesHash: sha256 over "name\0content\0" of each source, names sorted. */
export function sourcesHash() {
  const names = [...readdirSync(path.join(here, "src")).map((n) => `src/${n}`), "package-lock.json", "build.mjs"].sort();
  const h = createHash("sha256");
  for (const n of names) {
    h.update(n + "\0");
    h.update(readFileSync(path.join(here, n)));
    h.update("\0");
  }
  return h.digest("hex");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sum = sourcesHash();
  await esbuild.build({
    entryPoints: [path.join(here, "src", "main.js")],
    outfile: path.join(out, "console.js"),
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    banner: { js: `/* fedid console; sources sha256 ${sum}; built by clients/console/build.mjs */` },
    logLevel: "warning",
  });
  copyFileSync(path.join(here, "src", "index.html"), path.join(out, "index.html"));
  copyFileSync(path.join(here, "src", "console.css"), path.join(out, "console.css"));
  console.log(`console built into ${path.relative(process.cwd(), out)} (sources sha256 ${sum})`);
}
