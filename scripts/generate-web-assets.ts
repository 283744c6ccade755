import { writeFileSync } from 'node:fs';
import { readAssets, renderAssetModule } from '../lib/web/asset-bundle.ts';

writeFileSync(new URL('../lib/web/assets.generated.ts', import.meta.url), renderAssetModule(readAssets()));
process.stdout.write('wrote lib/web/assets.generated.ts\n');
