import { html, page, type RawHtml } from '../html.ts';
import type { PageLanguage } from '../i18n.ts';

/**
 * The API documentation, `/docs`: a shell that docs.js fills from `/openapi.json` (routes grouped by
 * area, their parameters, bodies and responses, "Authorize" with a key held in the page's memory
 * only, and "Try it"). The API's own texts are English; the page's words follow the browser.
 */

const words = {
  es: {
    title: 'Documentación de la API',
    intro:
      'Cada ruta de la API con sus parámetros, cuerpos y respuestas. Autorízate con una clave y prueba una ruta.',
    raw: 'El documento OpenAPI 3.1',
    loading: 'Cargando la documentación…',
    noscript: 'Esta página necesita JavaScript; el documento OpenAPI está en /openapi.json.',
  },
  en: {
    title: 'API documentation',
    intro:
      'Every route of the API with its parameters, bodies and responses. Authorize with a key and try a route.',
    raw: 'The OpenAPI 3.1 document',
    loading: 'Loading the documentation…',
    noscript: 'This page needs JavaScript; the OpenAPI document is at /openapi.json.',
  },
} as const;

export function docsPage(input: { lang: PageLanguage }): RawHtml {
  const w = words[input.lang];
  return page({
    title: w.title,
    lang: input.lang,
    scripts: ['docs.js'],
    styles: ['docs.css'],
    body: html`<main id="docs" data-lang="${input.lang}" data-spec="/openapi.json">
<h1>${w.title}</h1>
<p>${w.intro} <a href="/openapi.json">${w.raw}</a></p>
<noscript><p>${w.noscript}</p></noscript>
<div id="docs-app"><p class="hint" role="status">${w.loading}</p></div>
</main>`,
  });
}
