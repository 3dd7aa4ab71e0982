import { describe, expect, it } from 'vitest';
import { initialScripts } from './console.ts';

describe('initialScripts', () => {
  it('takes the entry module and its module preloads, not stylesheets, icons or remote scripts', () => {
    const html = `<!doctype html><html><head>
      <link rel="icon" href="/favicon.svg">
      <script type="module" crossorigin src="/assets/index-D7.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/vendor-A1.js">
      <link rel="stylesheet" href="/assets/index.css">
      <script src="https://cdn.example.com/analytics.js"></script>
    </head><body><div id="root"></div></body></html>`;
    expect(initialScripts(html)).toEqual(['/assets/index-D7.js', '/assets/vendor-A1.js']);
  });

  it('finds nothing in a page without scripts', () => {
    expect(initialScripts('<html><body>hi</body></html>')).toEqual([]);
  });
});
