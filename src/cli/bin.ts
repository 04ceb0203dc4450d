// `npx clawback …`: the command-line entry. Everything it needs beyond clawback itself
// (commander, csv-parse, cli-progress) is bundled into this file at build time, so none of it
// is a dependency of the library.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`clawback: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
