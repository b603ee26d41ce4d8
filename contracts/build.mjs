#!/usr/bin/env node
// Compile contracts/src/**/*.sol with solcjs through the standard-JSON interface and write one
// artifact per deployable contract to contracts/artifacts/<Name>.json:
//   {contractName, sourceName, abi, bytecode, deployedBytecode, storageLayout, compiler: {version, settings}}
// Output is deterministic (sorted keys, two-space indent, trailing newline), so the committed
// artifacts can be compared byte for byte with a fresh build.
//
//   node build.mjs               build into contracts/artifacts/ (stale artifacts are removed)
//   node build.mjs --out DIR     build into DIR instead
//   node build.mjs --check       build in memory; exit 1 if contracts/artifacts/ differs
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import solc from "solc";

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(ROOT, "src");
const NODE_MODULES = path.join(ROOT, "node_modules");
const DEFAULT_OUT = path.join(ROOT, "artifacts");

// The compiler settings recorded in every artifact. Changing them changes every bytecode.
const SETTINGS = {
  evmVersion: "cancun",
  metadata: { bytecodeHash: "ipfs" },
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
};

function parseArgs(argv) {
  const args = { out: DEFAULT_OUT, check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--check") args.check = true;
    else if (argv[i] === "--out") args.out = path.resolve(argv[++i] ?? "");
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return args;
}

function listSources(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSources(full));
    else if (entry.name.endsWith(".sol")) found.push(full);
  }
  return found;
}

// Source unit names are paths relative to contracts/ ("src/AgentNexusEscrow.sol"), never absolute,
// so the metadata hash inside the bytecode does not depend on where the checkout lives.
function sourceName(file) {
  return path.relative(ROOT, file).split(path.sep).join("/");
}

function findImport(importPath) {
  if (!importPath.startsWith("@openzeppelin/contracts/") || importPath.includes("..")) {
    return { error: `import outside @openzeppelin/contracts: ${importPath}` };
  }
  const file = path.join(NODE_MODULES, importPath);
  if (!fs.existsSync(file)) {
    return { error: `${importPath} not found; run: npm ci --prefix contracts` };
  }
  return { contents: fs.readFileSync(file, "utf8") };
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys(value[key])]),
    );
  }
  return value;
}

function stableJson(value) {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

export function build() {
  const sources = {};
  for (const file of listSources(SRC).sort()) {
    sources[sourceName(file)] = { content: fs.readFileSync(file, "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      ...SETTINGS,
      outputSelection: {
        "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  // Every diagnostic about our sources is fatal (warnings included). Dependency warnings are
  // counted only: OpenZeppelin's transient-storage notice comes with ReentrancyGuardTransient.
  const diagnostics = output.errors ?? [];
  const ours = (d) => d.severity === "error" || (d.sourceLocation?.file ?? "src/").startsWith("src/");
  const fatal = diagnostics.filter(ours);
  for (const d of fatal) process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
  if (fatal.length) throw new Error(`compilation failed with ${fatal.length} diagnostics`);
  const ignored = diagnostics.length - fatal.length;
  if (ignored) process.stderr.write(`(${ignored} warning(s) in dependencies not shown)\n`);

  const version = solc.version();
  const artifacts = new Map();
  for (const [source, contracts] of Object.entries(output.contracts ?? {})) {
    if (!source.startsWith("src/")) continue; // dependencies get no artifacts
    for (const [name, contract] of Object.entries(contracts)) {
      const bytecode = contract.evm.bytecode.object;
      if (!bytecode) continue; // interfaces and abstract contracts
      if (artifacts.has(`${name}.json`)) throw new Error(`duplicate contract name: ${name}`);
      artifacts.set(
        `${name}.json`,
        stableJson({
          abi: contract.abi,
          bytecode: `0x${bytecode}`,
          compiler: { settings: SETTINGS, version },
          contractName: name,
          deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
          sourceName: source,
          storageLayout: contract.storageLayout,
        }),
      );
    }
  }
  return artifacts;
}

function check(artifacts, dir) {
  const problems = [];
  const existing = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
  for (const [file, text] of artifacts) {
    const target = path.join(dir, file);
    if (!fs.existsSync(target)) problems.push(`missing: ${file}`);
    else if (fs.readFileSync(target, "utf8") !== text) problems.push(`differs: ${file}`);
  }
  for (const file of existing) if (!artifacts.has(file)) problems.push(`stale: ${file}`);
  return problems;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const artifacts = build();
  if (args.check) {
    const problems = check(artifacts, DEFAULT_OUT);
    if (problems.length) {
      process.stderr.write(`artifacts are out of date (run: node contracts/build.mjs):\n  ${problems.join("\n  ")}\n`);
      process.exit(1);
    }
    process.stdout.write(`artifacts up to date (${artifacts.size} contracts, solc ${solc.version()})\n`);
    return;
  }
  fs.mkdirSync(args.out, { recursive: true });
  for (const file of fs.readdirSync(args.out)) {
    if (file.endsWith(".json") && !artifacts.has(file)) fs.rmSync(path.join(args.out, file));
  }
  for (const [file, text] of artifacts) fs.writeFileSync(path.join(args.out, file), text);
  process.stdout.write(`wrote ${artifacts.size} artifacts to ${path.relative(process.cwd(), args.out) || "."} (solc ${solc.version()})\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`build.mjs: ${error.message}\n`);
  process.exit(1);
}
