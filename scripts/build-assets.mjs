// Build the front-end assets: compile our Sass (GOV.UK Frontend without the GOV.UK brand, and the
// accessible-autocomplete styles), copy GOV.UK Frontend's built JavaScript into static/govuk/ and
// accessible-autocomplete's into static/vendor/accessible-autocomplete/. Run with `npm run build`.
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govukDist = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const govukOut = join(root, "static", "govuk");
const cssOut = join(root, "static", "css", "tracker.css");
const autocompleteDist = join(root, "node_modules", "accessible-autocomplete", "dist");
const autocompleteOut = join(root, "static", "vendor", "accessible-autocomplete");

async function buildCss() {
  const result = sass.compile(join(root, "assets", "scss", "tracker.scss"), {
    style: "compressed",
    loadPaths: [join(root, "node_modules")],
    // Deprecation notices from inside govuk-frontend are for its maintainers, not for us.
    quietDeps: true,
  });
  await mkdir(dirname(cssOut), { recursive: true });
  await writeFile(cssOut, result.css + "\n");
  console.log(`wrote ${cssOut} (${result.css.length} bytes)`);
}

async function copyGovukJs() {
  // Start clean so that nothing from an older GOV.UK Frontend lingers. We copy no images or fonts:
  // the package's are the GOV.UK crown, crest and GDS Transport, which this service must not use.
  await rm(govukOut, { recursive: true, force: true });
  await mkdir(govukOut, { recursive: true });
  for (const name of ["govuk-frontend.min.js", "govuk-frontend.min.js.map"]) {
    await copyFile(join(govukDist, name), join(govukOut, name));
  }
  console.log(`copied GOV.UK Frontend JavaScript to ${govukOut}`);
}

async function copyAutocompleteJs() {
  // The council type-ahead (static/js/council-autocomplete.js) loads it from here: served by us,
  // never a CDN. Its styles are compiled into tracker.css (assets/scss/_autocomplete.scss).
  await rm(autocompleteOut, { recursive: true, force: true });
  await mkdir(autocompleteOut, { recursive: true });
  for (const name of ["accessible-autocomplete.min.js", "accessible-autocomplete.min.js.map"]) {
    await copyFile(join(autocompleteDist, name), join(autocompleteOut, name));
  }
  console.log(`copied accessible-autocomplete to ${autocompleteOut}`);
}

await buildCss();
await copyGovukJs();
await copyAutocompleteJs();
