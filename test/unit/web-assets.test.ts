import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAssets, renderAssetModule } from '../../lib/web/asset-bundle.ts';
import { CONTENT_SECURITY_POLICY, html, raw } from '../../lib/web/html.ts';

describe('the web pages static files', () => {
  it('are up to date in lib/web/assets.generated.ts (run `npm run build:web` after changing them)', () => {
    const onDisk = readFileSync(new URL('../../lib/web/assets.generated.ts', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderAssetModule(readAssets()));
  });
});

describe('server-rendered HTML', () => {
  it('escapes every interpolation unless it is raw, arrays included', () => {
    const name = '<script>alert("x")</script>';
    expect(html`<p title="${name}">${name}</p>`.html).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>',
    );
    expect(html`<ul>${['<a>', raw('<li>ok</li>')]}</ul>`.html).toBe('<ul>&lt;a&gt;<li>ok</li></ul>');
  });

  it('allows no inline script and no framing', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });
});
