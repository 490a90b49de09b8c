// Prints the configuration table of the README from src/config.ts (the one source).
import { VARIABLES } from '../src/config.js';

console.log('| variable | default | meaning |\n|---|---|---|');
for (const v of VARIABLES) {
  console.log(
    `| \`${v.name}\` | ${v.default ? `\`${v.default}\`` : '—'} | ${v.description.replace(/\|/g, '\\|')} |`,
  );
}
