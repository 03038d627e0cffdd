// Opens the page of a 100,000-event session and reports how fast it painted (the page's own
// performance marks, from navigation start) and what the virtualised list holds when scrolled
// to the start, the middle and the end.
//
// input: { path }

import { assertClean, open, run } from './lib.mjs';

await run(async (input, browser) => {
  const { page, problems } = await open(browser, input.path);
  await page.waitForSelector('html[data-ready="1"]', { timeout: 60000 });
  const marks = await page.evaluate(() => Object.fromEntries(
    performance.getEntriesByType('mark').filter((m) => m.name.startsWith('agent-strace:'))
      .map((m) => [m.name.slice('agent-strace:'.length), Math.round(m.startTime)])));
  const list = page.locator('#list');
  const view = async () => page.evaluate(() => {
    const rows = [...document.querySelectorAll('#spacer > .row')].map((r) => Number(r.dataset.line));
    const list = document.querySelector('#list');
    const inView = [...document.querySelectorAll('#spacer > .row')].filter((r) => {
      const top = r.offsetTop - list.scrollTop;
      return top >= 0 && top < list.clientHeight;
    }).map((r) => Number(r.dataset.line));
    return { rows: rows.length, first: Math.min(...inView), last: Math.max(...inView) };
  });
  const scrollTo = async (where) => {
    await page.evaluate((where) => {
      const list = document.querySelector('#list');
      list.scrollTop = where === 'end' ? list.scrollHeight : where === 'middle' ? list.scrollHeight / 2 : 0;
    }, where);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  };
  const scroll = {};
  for (const at of ['start', 'middle', 'end']) {
    await scrollTo(at);
    scroll[at] = await view();
  }
  // Smoothness: 60 scroll steps of a screen each, one per frame; the mean and worst frame.
  const frames = await page.evaluate(async () => {
    const list = document.querySelector('#list');
    list.scrollTop = 0;
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 60; i++) {
      list.scrollTop += list.clientHeight * 7;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    return { mean: Math.round(times.reduce((a, b) => a + b, 0) / times.length), worst: Math.round(times[times.length - 1]) };
  });
  assertClean(problems, 'the 100k-event page');
  return {
    lines: Number(await list.getAttribute('data-lines')),
    events: Number(await list.getAttribute('data-events')),
    marks,
    scroll,
    frames,
  };
});
