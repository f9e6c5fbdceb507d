// Renders ZPL labels to PNG with zpl-renderer-js (an independent ZPL renderer: Zebrash compiled
// to WebAssembly, with its own barcode encoders), headless in node. Used by
// tests/test_labels_render.cpp.
//   node render-zpl.mjs <manifest.json>
// The manifest is a list of {"zpl": file, "width_mm": n, "height_mm": n, "dpmm": n, "out": file}.
// Exits 0 when every label rendered; otherwise prints one line per failure
// ("render-zpl: <zpl file>: <message>") and exits 1.
import fs from "node:fs";

const [manifestPath] = process.argv.slice(2);
if (!manifestPath) {
  console.error("usage: node render-zpl.mjs <manifest.json>");
  process.exit(2);
}
const oneLine = (e) => String(e && e.message ? e.message : e).split("\n")[0].slice(0, 500);
let failed = 0;
try {
  const jobs = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  const { ready } = await import("zpl-renderer-js");
  const { api } = await ready;
  for (const job of jobs) {
    try {
      const zpl = fs.readFileSync(job.zpl, "utf8");
      const png = await api.zplToBase64Async(zpl, job.width_mm, job.height_mm, job.dpmm);
      fs.writeFileSync(job.out, Buffer.from(png, "base64"));
    } catch (e) {
      failed++;
      console.error(`render-zpl: ${job.zpl}: ${oneLine(e)}`);
    }
  }
} catch (e) {
  console.error(`render-zpl: ${manifestPath}: ${oneLine(e)}`);
  process.exit(1);
}
process.exit(failed ? 1 : 0);
