#!/usr/bin/env node
// A native-`solc`-shaped front for the npm `solc` package (solcjs), so that forge (`--use`) and
// foundry-compilers (`Solc::new(path)`) can drive it. It answers exactly the two calls they make:
//
//   solc --version                      -> "Version: 0.8.x+commit.…" on stdout
//   solc [--base-path P] [--include-path P]… [--allow-paths …] --standard-json
//                                       -> standard-JSON in on stdin, standard-JSON out on stdout
//
// Imports that the caller did not inline are read from the base path, then each include path.
"use strict";
const fs = require("fs");
const path = require("path");

const solc = require(path.join(__dirname, "..", "node_modules", "solc"));

const args = process.argv.slice(2);
// solcjs reports "0.8.37+commit.f401782d.Emscripten.clang"; native solc "0.8.37+commit.f401782d.Linux.g++".
// Tools only parse the semver and the commit, so keep solcjs's own platform suffix.
const version = solc.version();

if (args.includes("--version") || args.includes("-v")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write(
    "solc-wrapper: only --version and --standard-json are supported (this is solcjs " + version + ")\n",
  );
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if ((args[i] === "--base-path" || args[i] === "--include-path") && i + 1 < args.length) {
    roots.push(args[++i]);
  }
}
if (roots.length === 0) roots.push(process.cwd());

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    try {
      return { contents: fs.readFileSync(candidate, "utf8") };
    } catch (_) {
      // try the next root
    }
  }
  return { error: `File not found in base/include paths: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
const output = solc.compile(input, { import: findImports });
process.stdout.write(output);
