// npm scripts must run on Node 24 (the Lambda runtime). The `node` devDependency puts Node 24 first
// on the PATH of npm scripts, but only when its install script ran (not after `npm ci --ignore-scripts`).
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  process.stderr.write(
    `This project runs on Node 24 (found ${process.version}). Run \`npm ci\` with install scripts enabled so the node@24 devDependency is used.\n`,
  );
  process.exit(1);
}
