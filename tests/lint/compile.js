// Compiles every schema of each OpenAPI 3.1 spec named in argv with AJV 2020 as the JS tools use it
// (strict off for the x- annotations; unicodeRegExp, AJV's default, stated: patterns get the "u"
// flag), with formats. Prints {file: {compiled, failed: [[component, message], ...]}} as JSON.
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const out = {};
for (const file of process.argv.slice(2)) {
  const spec = JSON.parse(fs.readFileSync(file, "utf8"));
  const ajv = new Ajv2020({ strict: false, unicodeRegExp: true, allErrors: true });
  addFormats(ajv);
  const id = "https://spec.invalid/openapi.json";
  ajv.addSchema({ $id: id, components: spec.components }, id);
  const failed = [];
  let compiled = 0;
  for (const name of Object.keys(spec.components.schemas)) {
    try {
      ajv.compile({ $ref: `${id}#/components/schemas/${name.replace(/~/g, "~0").replace(/\//g, "~1")}` });
      compiled++;
    } catch (e) {
      failed.push([name, String(e.message).slice(0, 300)]);
    }
  }
  out[file] = { compiled, failed };
}
console.log(JSON.stringify(out));
