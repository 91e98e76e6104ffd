// Validates every two-decimal value 0.00..999.99 with AJV's defaults (as Redocly and Spectral use
// it) against the JSON Schema in the file argv[2]; prints how many it rejects and the first five.
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const schema = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const validate = new Ajv2020({ strict: false }).compile(schema);
const rejected = [];
let checked = 0;
for (let i = 0; i < 100000; i++, checked++) {
  const v = Number((i / 100).toFixed(2));
  if (!validate(v)) rejected.push(v);
}
console.log(JSON.stringify({ checked, rejected: rejected.length, first: rejected.slice(0, 5) }));
