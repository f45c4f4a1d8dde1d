// Bundles the onboarding and owner pages: src/ -> public/assets/<name>-<hash>.{js,css} and public/{onboarding,owner}.html.
// Hashed names let Hosting cache assets for a year while the HTML is revalidated on every visit.
import * as esbuild from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "public", "assets");
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await esbuild.build({
  entryPoints: ["onboarding.js", "onboarding.css", "owner.js", "owner.css"].map((f) => join(here, "src", f)),
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["es2020"],
  entryNames: "[name]-[hash]",
  outdir: out,
  metafile: true,
  logLevel: "warning",
});

const names = {};
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) names[basename(meta.entryPoint)] = basename(file);
}
for (const page of ["onboarding", "owner"]) {
  const template = await readFile(join(here, "src", `${page}.html`), "utf8");
  const html = template
    .replace(`%${page.toUpperCase()}_JS%`, names[`${page}.js`])
    .replace(`%${page.toUpperCase()}_CSS%`, names[`${page}.css`]);
  await writeFile(join(here, "public", `${page}.html`), html);
  console.log(`built ${page}: ${names[`${page}.js`]}, ${names[`${page}.css`]}`);
}
