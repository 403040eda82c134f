#!/usr/bin/env node
// The `easel` command (Node ≥ 22.18 runs this TypeScript directly). See `easel --help`.
import { run } from '../src/cli/main.ts';

const code = await run(process.argv.slice(2));
// `serve` keeps running; every other command ends here with its code once pending output is written.
process.exitCode = code;
