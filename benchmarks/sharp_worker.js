// sharp's side of benchmarks/vs_sharp.py: one JSON request per stdin line, one JSON answer per line.
//   {"op": "setup", "cases": [...], "concurrency": 1 | null}  -> {"versions": {...}}
//   {"op": "run", "case": i, "runs": n, "warmup": bool, "out": path | null}
//                                                 -> {"ms": [...], "cpu_ms": [...]} (wall, process CPU)
// Each case is {"path", "width", "height", "fit", "format"}: auto-orient, resize, flatten onto
// white for JPEG (as the function does), encode at sharp's defaults (quality 80).
"use strict";
const fs = require("fs");
const readline = require("readline");
const sharp = require("sharp");

sharp.cache(false); // every request is a new image in production: no operation cache hits
let cases = [];

function pipeline(c, input) {
  let p = sharp(input).rotate().resize(c.width, c.height, { fit: c.fit });
  if (c.format === "jpeg") p = p.flatten({ background: "#ffffff" }).jpeg({ quality: 80 });
  else if (c.format === "webp") p = p.webp({ quality: 80 });
  else p = p.png();
  return p.toBuffer();
}

async function handle(msg) {
  if (msg.op === "setup") {
    if (msg.concurrency) sharp.concurrency(msg.concurrency);
    cases = msg.cases.map((c) => ({ ...c, input: fs.readFileSync(c.path) }));
    return { versions: sharp.versions, concurrency: sharp.concurrency() };
  }
  const c = cases[msg.case];
  const ms = [];
  const cpuMs = [];
  let out = msg.warmup ? await pipeline(c, c.input) : null;
  for (let i = 0; i < msg.runs; i++) {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    out = await pipeline(c, c.input);
    const used = process.cpuUsage(cpu);
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    cpuMs.push((used.user + used.system) / 1000);
  }
  if (msg.out) fs.writeFileSync(msg.out, out);
  return { ms, cpu_ms: cpuMs };
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let answer;
    try {
      answer = await handle(JSON.parse(line));
    } catch (err) {
      answer = { error: String(err && err.stack ? err.stack : err) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  });
});
