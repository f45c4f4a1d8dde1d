// Bundles the onboarding page: src/ -> public/assets/<name>-<hash>.{js,css} and public/onboarding.html.
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
  entryPoints: [join(here, "src", "onboarding.js"), join(here, "src", "onboarding.css")],
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
const template = await readFile(join(here, "src", "onboarding.html"), "utf8");
const html = template
  .replace("%ONBOARDING_JS%", names["onboarding.js"])
  .replace("%ONBOARDING_CSS%", names["onboarding.css"]);
await writeFile(join(here, "public", "onboarding.html"), html);
console.log(`built ${names["onboarding.js"]}, ${names["onboarding.css"]}`);
