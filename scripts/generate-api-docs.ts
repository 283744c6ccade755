import { writeFileSync } from 'node:fs';
import { renderApiReference } from '../lib/docs/api-reference.ts';

writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiReference());
process.stdout.write('wrote docs/api.md\n');
