// Guard for `npm test` / `npm run build`: ky 2, vitest 5, msw 3 and tsup 9 need Node >= 22.
// The `node` devDependency puts Node 24 in node_modules/.bin, which npm run-scripts put first
// on PATH; if this fails, `npm ci` did not install it or the script was run outside npm.
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= 22)) {
  console.error(
    `\nclawback: these scripts need Node >= 22, but they are running on Node ${process.versions.node} (${process.execPath}).\n` +
      'Run them through npm (`npm test`, `npm run build`) after `npm ci`, so the pinned Node from the `node` devDependency is used.\n',
  );
  process.exit(1);
}
