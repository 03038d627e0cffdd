// Opens a page and reports how far its rows are indented: it scrolls the virtualised list from
// the start to the end a screen at a time and reports the widest left padding of a row's head.
//
// input: { path }

import { assertClean, open, run } from './lib.mjs';

await run(async (input, browser) => {
  const { page, problems } = await open(browser, input.path);
  await page.waitForSelector('html[data-ready="1"]', { timeout: 60000 });
  const widest = await page.evaluate(async () => {
    const list = document.querySelector('#list');
    let widest = 0;
    let rows = 0;
    for (list.scrollTop = 0; ; list.scrollTop += list.clientHeight) {
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      for (const head of document.querySelectorAll('#spacer > .row .head')) {
        widest = Math.max(widest, parseFloat(head.style.paddingLeft) || 0);
        rows++;
      }
      if (list.scrollTop + list.clientHeight >= list.scrollHeight) break;
    }
    return { widest, rows };
  });
  assertClean(problems, 'the page');
  return widest;
});
