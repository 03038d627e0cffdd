// Opens one page and reports what it saw, without judging it: its title, its visible text,
// the problems lib.mjs collects, and (when `input.screenshot` is given) a screenshot. The test
// that runs it decides what is wrong; tests/html_replay.rs uses it to prove the harness itself
// notices console errors, page errors, dialogs and network requests.
//
// input: { path, screenshot?, colorScheme? }

import { open, run, screenshot } from './lib.mjs';

await run(async (input, browser) => {
  const { page, problems } = await open(browser, input.path, { colorScheme: input.colorScheme });
  // Let timers the page set at load run (a late error or request still counts).
  await page.waitForTimeout(200);
  if (input.screenshot) await screenshot(page, input.screenshot);
  return {
    title: await page.title(),
    text: await page.evaluate(() => document.body.innerText),
    problems,
  };
});
