// The request bodies of schemas/openapi.yaml take their constraints from the
// command schemas in schemas/commands/, where the server enforces them.
//
// A body schema (a component or an inline requestBody schema) that is a
// command's body names it: `x-command: organization.invite`. Fields the route
// fills itself (from the path, the session) are listed in `x-set-by-route` and
// must not be in the body; fields the route reads that are not the command's
// (a `reason` it records, say) are listed in `x-route-fields`; command fields
// the body may leave out because the route fills them when absent (the
// signed-in user as an organization's owner) in `x-filled-by-route`. Every other
// property of the command must be in the body with the same constraints
// (type, enum, bounds, pattern, required, additionalProperties...), nested
// objects and arrays included; a body property that is a $ref is documented
// where it points and is not compared.
//
// A schema marked `x-event-categories: true` has for enum the event categories
// of schemas/events/ (the event types up to their first dot).
//
//   node tools/openapi/commands.mjs schemas/openapi.yaml          # check: prints each difference, exits 1
//   node tools/openapi/commands.mjs schemas/openapi.yaml --write  # writes the command's constraints into the document
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import YAML from "yaml";

const CONSTRAINTS = [
  "type", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
  "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "required",
  "additionalProperties", "not", "oneOf", "anyOf",
];

const file = process.argv[2];
const write = process.argv.includes("--write");
if (!file) {
  console.error("usage: commands.mjs <openapi.yaml> [--write]");
  process.exit(2);
}
const commandsDir = join(dirname(file), "commands");
const source = readFileSync(file, "utf8");
const doc = YAML.parseDocument(source);
const plain = doc.toJS();
const problems = [];
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Every schema naming a command, with its path in the document.
const bodies = [];
for (const [name, s] of Object.entries(plain.components?.schemas ?? {}))
  if (s && s["x-command"]) bodies.push({ path: ["components", "schemas", name], schema: s });
for (const [p, item] of Object.entries(plain.paths ?? {}))
  for (const [method, op] of Object.entries(item))
    for (const [type, media] of Object.entries(op?.requestBody?.content ?? {}))
      if (media.schema && media.schema["x-command"])
        bodies.push({ path: ["paths", p, method, "requestBody", "content", type, "schema"], schema: media.schema });

// Compares (or writes) the constraints of `cmd` onto `body` at document path `at`.
const sync = (cmd, body, at, where, skip = new Set(), extra = new Set(), filled = new Set()) => {
  for (const k of CONSTRAINTS) {
    let want = cmd[k];
    if (k === "required") {
      // The command's, less what the route sets, plus the route's own required fields.
      want = [...(want ?? []).filter((f) => !skip.has(f) && !filled.has(f)),
        ...(body.required ?? []).filter((f) => extra.has(f))];
      if (want.length === 0) want = undefined;
    }
    if (k === "additionalProperties" && want !== undefined && typeof want !== "boolean") continue;
    const sorted = (v) => (k === "required" && v ? [...v].sort() : v);
    if (same(sorted(body[k]), sorted(want))) continue;
    if (write) {
      if (want === undefined) doc.deleteIn([...at, k]);
      else doc.setIn([...at, k], doc.createNode(want, { flow: Array.isArray(want) }));
    } else {
      problems.push(`${where}: ${k} is ${JSON.stringify(body[k])}, the command says ${JSON.stringify(want)}`);
    }
  }
  for (const [field, sub] of Object.entries(cmd.properties ?? {})) {
    if (skip.has(field)) {
      if (body.properties?.[field] !== undefined) problems.push(`${where}: ${field} is set by the route, not the body`);
      continue;
    }
    const mine = body.properties?.[field];
    if (mine === undefined) {
      if (write) doc.setIn([...at, "properties", field], doc.createNode(pick(sub)));
      else problems.push(`${where}: ${field} is missing (the command has it)`);
      continue;
    }
    if (mine.$ref) continue;
    sync(sub, mine, [...at, "properties", field], `${where}/${field}`);
  }
  for (const field of Object.keys(body.properties ?? {}))
    if (!(field in (cmd.properties ?? {})) && !extra.has(field))
      problems.push(`${where}: ${field} is not a field of the command (list it in x-route-fields if the route reads it)`);
  if (cmd.items && body.items && !body.items.$ref) sync(cmd.items, body.items, [...at, "items"], `${where}[]`);
};

// A command property's constraints (and description), for a body missing it.
const pick = (s) => Object.fromEntries(Object.entries(s).filter(([k]) => CONSTRAINTS.includes(k) || k === "properties" || k === "items" || k === "description"));

for (const { path, schema } of bodies) {
  const name = schema["x-command"];
  let cmd;
  try {
    cmd = JSON.parse(readFileSync(join(commandsDir, `${name}.json`), "utf8"));
  } catch (e) {
    problems.push(`${path.join("/")}: x-command ${name}: ${e.message}`);
    continue;
  }
  const skip = new Set(schema["x-set-by-route"] ?? []);
  const extra = new Set(schema["x-route-fields"] ?? []);
  const filled = new Set(schema["x-filled-by-route"] ?? []);
  for (const f of skip)
    if (!(f in (cmd.properties ?? {}))) problems.push(`${path.join("/")}: x-set-by-route ${f} is not a field of ${name}`);
  sync(cmd, schema, path, `${path.join("/")} (${name})`, skip, extra, filled);
}

// Event categories (the event types of schemas/events/ up to their first dot):
// a schema marked `x-event-categories: true` lists exactly these in its enum.
const categories = [...new Set(readdirSync(join(dirname(file), "events"))
  .filter((n) => n.endsWith(".json")).map((n) => n.slice(0, n.indexOf("."))))].sort();
const walk = (node, at) => {
  if (node === null || typeof node !== "object") return;
  if (node["x-event-categories"] === true && !same(node.enum, categories)) {
    if (write) doc.setIn([...at, "enum"], doc.createNode(categories, { flow: true }));
    else problems.push(`${at.join("/")}: enum is ${JSON.stringify(node.enum)}, the event categories are ${JSON.stringify(categories)}`);
  }
  for (const [k, v] of Object.entries(node)) walk(v, [...at, Array.isArray(node) ? Number(k) : k]);
};
walk(plain, []);

if (write) {
  const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  if (out !== source) writeFileSync(file, out);
}
if (problems.length) {
  for (const p of problems) console.error(`${file}: ${p}`);
  if (!write) console.error(`to take the constraints from the commands: node tools/openapi/commands.mjs ${file} --write`);
  process.exit(1);
}
console.log(`${file}: ${bodies.length} request bodies agree with their commands`);
