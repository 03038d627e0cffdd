// Opens the dashboard's pages (`dashboard --html`, `dashboard --trend --html`) in Chromium and
// reports what it saw: the SVG charts and their bars or points, the table rows, the notes'
// markers, the links to replay pages (and that the first one opens a working replay), and
// whether anything a session wrote ran or became markup. tests/dashboard.rs decides whether that
// is right. Any console error, page error, dialog or network request fails the run (lib.mjs).
//
// input: { pages: [{ path, screenshot? }] }

import { assertClean, check, open, run, screenshot } from './lib.mjs';

await run(async (input, browser) => {
  const reports = [];
  for (const target of input.pages) {
    const { page, problems } = await open(browser, target.path, {
      viewport: { width: 1280, height: 900 },
    });
    const seen = await page.evaluate(() => {
      const all = [...document.querySelectorAll('*')];
      const charts = {};
      for (const svg of document.querySelectorAll('svg.chart')) {
        const box = svg.getBoundingClientRect();
        charts[svg.dataset.metric] = {
          bars: svg.querySelectorAll('rect.bar').length,
          values: [...svg.querySelectorAll('rect.bar')].map((r) => Number(r.dataset.value)),
          tallBars: [...svg.querySelectorAll('rect.bar')].filter((r) => r.getBBox().height > 0).length,
          points: svg.querySelectorAll('circle.dot').length,
          lines: [...svg.querySelectorAll('path.line')].map((p) => p.dataset.series),
          markers: [...svg.querySelectorAll('line.marker')].map((m) => m.textContent),
          visible: box.width > 0 && box.height > 0,
        };
      }
      const rows = (id) => [...document.querySelectorAll(`table#${id} tbody tr`)]
        .map((tr) => [...tr.cells].map((c) => c.textContent));
      return {
        title: document.title,
        charts,
        topTools: rows('top-tools'),
        recent: rows('recent'),
        notes: [...document.querySelectorAll('#notes li')].map((li) => li.textContent),
        links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
        pwned: window.__pwned ?? null,
        scripts: document.scripts.length,
        foreignElements: all
          .filter((e) => ['IMG', 'IFRAME', 'OBJECT', 'EMBED', 'SCRIPT'].includes(e.tagName.toUpperCase()))
          .map((e) => e.outerHTML.slice(0, 80)),
        unchartedSvgs: all.filter((e) => e.tagName.toLowerCase() === 'svg' && !e.classList.contains('chart')).length,
        handlerAttributes: all.flatMap((e) => [...e.attributes]
          .filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName} ${a.name}`)),
      };
    });
    if (target.screenshot) await screenshot(page, target.screenshot);
    // The first session's link opens its replay page, which works.
    if (seen.links.length) {
      const first = page.locator('table#recent tbody tr a').first();
      await first.click();
      await page.waitForSelector('html[data-ready="1"]', { timeout: 10000 });
      seen.replayOpened = {
        url: page.url(),
        lines: Number(await page.locator('#list').getAttribute('data-lines')),
        pwned: await page.evaluate(() => window.__pwned ?? null),
      };
    }
    await page.waitForTimeout(200);
    assertClean(problems, target.path);
    check(seen.pwned === null, 'a session script ran');
    reports.push(seen);
  }
  return reports;
});
