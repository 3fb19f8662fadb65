// Validates an OpenAPI document (schemas/openapi.yaml) against the official
// OpenAPI 3.1 JSON Schema with @seriousme/openapi-schema-validator, then
// checks what that schema cannot: every local $ref resolves, and operation
// ids are unique. Prints each problem and exits 1 when there is any.
//   node tools/openapi/validate.mjs schemas/openapi.yaml
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import YAML from "yaml";

const file = process.argv[2];
if (!file) {
  console.error("usage: validate.mjs <openapi.yaml>");
  process.exit(2);
}
const doc = YAML.parse(readFileSync(file, "utf8"));
const validator = new Validator();
const result = await validator.validate(doc);
const problems = [];
if (!result.valid) {
  for (const e of [].concat(result.errors ?? [])) problems.push(`${e.instancePath || "/"}: ${e.message ?? JSON.stringify(e)}`);
  if (problems.length === 0) problems.push("invalid (no details)");
}
if (validator.version !== "3.1") problems.push(`expected OpenAPI 3.1, found ${validator.version}`);

const resolve = (ref) => ref.slice(2).split("/").reduce(
  (node, token) => (node === undefined ? undefined : node[token.replaceAll("~1", "/").replaceAll("~0", "~")]), doc);
const ids = new Map();
const walk = (node, path) => {
  if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${path}/${i}`));
  if (node === null || typeof node !== "object") return;
  if (typeof node.$ref === "string" && node.$ref.startsWith("#/") && resolve(node.$ref) === undefined)
    problems.push(`${path}: $ref ${node.$ref} does not resolve`);
  for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`);
};
walk(doc, "");
for (const [p, item] of Object.entries(doc.paths ?? {}))
  for (const [method, op] of Object.entries(item))
    if (op && typeof op === "object" && op.operationId) {
      if (ids.has(op.operationId)) problems.push(`${p} ${method}: operationId ${op.operationId} also at ${ids.get(op.operationId)}`);
      ids.set(op.operationId, `${p} ${method}`);
    }

if (problems.length) {
  for (const p of problems) console.error(`${file}${p.startsWith("/") ? "" : ": "}${p}`);
  process.exit(1);
}
console.log(`${file}: valid OpenAPI ${validator.version}, ${Object.keys(doc.paths).length} paths, ${ids.size} operations`);
