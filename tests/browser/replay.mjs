// Drives the HTML replay (`replay --format html`) and the share page (`share`) in Chromium and
// reports what it saw; tests/html_replay.rs decides whether that is right. Any console error,
// page error, dialog or network request fails the run (lib.mjs).
//
// input: { path, screenshot?, share?: bool, annotation?: text the sidebar must show,
//          subagent?: a subagent session id whose lines must sit under their call }

import { assertClean, check, open, run, screenshot } from './lib.mjs';

await run(async (input, browser) => {
  const { page, problems } = await open(browser, input.path);
  await page.waitForSelector('html[data-ready="1"]');
  const report = {};
  const list = page.locator('#list');
  const shown = async () => Number(await list.getAttribute('data-shown'));
  const rows = () => page.locator('#spacer > .row');
  report.lines = Number(await list.getAttribute('data-lines'));
  report.events = Number(await list.getAttribute('data-events'));
  report.shown = await shown();
  report.rowsInDom = await rows().count();
  report.title = await page.title();
  report.headerText = await page.locator('header#top').innerText();
  // What the rows of interrupts say: their kind, then who sent them.
  report.interrupts = await page.locator('#spacer > .row.k-interrupted .head').evaluateAll((heads) =>
    heads.map((h) => [...h.querySelectorAll('.kind, .tool')].map((e) => e.textContent).join(' ')));

  // The share page's summary.
  report.summaryVisible = await page.locator('#summary').isVisible();
  if (input.share) {
    report.verdict = await page.locator('#verdict').innerText();
    report.filesChanged = await page.locator('#files-changed li').allInnerTexts();
    report.phases = await page.locator('#phases > li').count();
    report.summaryText = await page.locator('#summary').innerText();
  }

  // Scrubbing: the clock, the cost counter and which rows are still to come.
  const clockAtEnd = await page.locator('#clock').innerText();
  const costAtEnd = await page.locator('#cost').innerText();
  await page.locator('#scrubber').evaluate((s) => {
    s.value = '0';
    s.dispatchEvent(new Event('input', { bubbles: true }));
  });
  report.scrub = {
    clockAtEnd,
    costAtEnd,
    clockAtStart: await page.locator('#clock').innerText(),
    costAtStart: await page.locator('#cost').innerText(),
    futureRowsAtStart: await page.locator('#spacer > .row.future').count(),
  };
  await page.locator('#scrubber').evaluate((s) => {
    s.value = String(Math.floor(Number(s.max) / 2));
    s.dispatchEvent(new Event('input', { bubbles: true }));
  });
  report.scrub.clockAtMiddle = await page.locator('#clock').innerText();
  report.scrub.costAtMiddle = await page.locator('#cost').innerText();
  await page.locator('#scrubber').evaluate((s) => {
    s.value = s.max;
    s.dispatchEvent(new Event('input', { bubbles: true }));
  });

  // Filters: hide tool calls; then only one tool.
  const before = await shown();
  const callBox = page.locator('#kinds input[value="tool_call"]');
  report.filter = { before };
  if (await callBox.count()) {
    await callBox.uncheck();
    report.filter.withoutCalls = await shown();
    report.filter.callRowsShown = await page.locator('#spacer > .row.k-tool_call').count();
    await callBox.check();
  }
  const tools = await page.locator('#tool option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  if (tools.length > 1) {
    const [value, label] = tools[1];
    await page.selectOption('#tool', value);
    report.filter.tool = label;
    report.filter.withOneTool = await shown();
    report.filter.toolsShown = [...new Set(await page.locator('#spacer > .row .head .tool').allInnerTexts())];
    await page.selectOption('#tool', '');
  }
  report.filter.after = await shown();

  // Expanding: a call's row shows its events as JSON. The row is named by its line: which
  // rows the virtualised list holds changes as it scrolls.
  const callLine = await page.locator('#spacer > .row.k-tool_call').first().getAttribute('data-line');
  if (callLine !== null) {
    const call = page.locator(`#spacer > .row[data-line="${callLine}"]`);
    const pre = call.locator('.body pre.json').first();
    // A click that lands while the virtualised list replaces the row is lost (a loaded
    // machine): click again while the row is still closed, a few times at most.
    for (let tries = 0; tries < 3; tries++) {
      await call.locator('.head').click();
      if (await pre.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
      if (await call.locator('.body').count()) break;
    }
    const text = await pre.innerText();
    report.expanded = { json: JSON.parse(text), blocks: await call.locator('.body pre.json').count() };
    const closed = () =>
      call.locator('.body').waitFor({ state: 'detached', timeout: 5000 }).then(() => true, () => false);
    await call.locator('.head').click();
    if (!(await closed())) {
      await call.locator('.head').click();
    }
    report.expanded.closed = await closed();
  }

  // Subagents: their lines sit under the call that spawned them, indented, and fold away.
  if (input.subagent) {
    await page.fill('#search', input.subagent.toLowerCase());
    await page.waitForFunction((n) => Number(document.querySelector('#list').dataset.shown) < n, before);
    report.subagent = {
      lines: await shown(),
      allNested: await page.locator('#spacer > .row').evaluateAll((rs) => rs.every((r) => r.classList.contains('sub'))),
    };
    await page.fill('#search', '');
    await page.waitForFunction((n) => Number(document.querySelector('#list').dataset.shown) === n, before);
    const toggle = page.locator('#spacer > .row .tog', { hasText: '▾' }).first();
    if (await toggle.count()) {
      // The list re-renders after the click; on a loaded machine that can take a while, and a
      // click that lands while the row is being replaced is lost: wait, then click once more.
      const folded = (n) => Number(document.querySelector('#list').dataset.shown) < n;
      await toggle.click();
      if (!(await page.waitForFunction(folded, before, { timeout: 5000 }).then(() => true, () => false))) {
        await page.locator('#spacer > .row .tog', { hasText: '▾' }).first().click();
        await page.waitForFunction(folded, before, { timeout: 5000 }).catch(() => {});
      }
      report.subagent.folded = before - (await shown());
      await page.locator('#spacer > .row .tog', { hasText: '▸' }).first().click();
    } else {
      // The spawning call is further down: find it by scrolling the list.
      report.subagent.folded = await page.evaluate(async () => {
        const list = document.querySelector('#list');
        for (let y = 0; y < list.scrollHeight; y += list.clientHeight) {
          list.scrollTop = y;
          await new Promise((r) => requestAnimationFrame(() => r()));
          const tog = [...document.querySelectorAll('#spacer > .row .tog')].find((t) => t.textContent === '▾');
          if (tog) {
            const n = Number(list.dataset.shown);
            tog.click();
            const folded = n - Number(list.dataset.shown);
            [...document.querySelectorAll('#spacer > .row .tog')].find((t) => t.textContent === '▸').click();
            list.scrollTop = 0;
            return folded;
          }
        }
        return 0;
      });
    }
  }

  // Theme: the toggle flips it and the colours follow.
  const theme = async () => page.evaluate(() => [document.documentElement.dataset.theme,
    getComputedStyle(document.body).backgroundColor]);
  const [theme1, bg1] = await theme();
  await page.click('#theme');
  const [theme2, bg2] = await theme();
  report.theme = { before: theme1, after: theme2, backgroundChanged: bg1 !== bg2 };

  // Keyboard: j/k move the selection (and the time), Enter expands, / searches, space plays.
  await list.focus();
  const selected = async () => page.evaluate(() => {
    const row = document.querySelector('#spacer > .row.sel');
    return row ? Number(row.dataset.line) : -1;
  });
  await page.keyboard.press('j');
  const first = await selected();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  const third = await selected();
  await page.keyboard.press('k');
  const second = await selected();
  await page.keyboard.press('ArrowDown');
  const arrow = await selected();
  await page.keyboard.press('Enter');
  const expandedByKey = await page.locator('#spacer > .row.sel .body pre.json').count();
  await page.keyboard.press('Enter');
  const clockAfterKeys = await page.locator('#clock').innerText();
  await page.keyboard.press('b');
  const bookmarks = await page.locator('#bookmarks li[data-line]').count();
  await page.keyboard.press('/');
  const searchFocused = await page.evaluate(() => document.activeElement && document.activeElement.id === 'search');
  await page.keyboard.type('zzzz-no-such-thing');
  await page.waitForFunction(() => document.querySelector('#list').dataset.shown === '0');
  const shownForNothing = await shown();
  await page.keyboard.press('Escape');
  await page.waitForFunction((n) => Number(document.querySelector('#list').dataset.shown) === n, before);
  await list.focus();
  await page.keyboard.press(' ');
  const playing = await page.locator('#play').innerText();
  await page.waitForTimeout(300);
  await page.keyboard.press(' ');
  const paused = await page.locator('#play').innerText();
  report.keys = {
    first, second, third, arrow, expandedByKey, clockAfterKeys, bookmarks, searchFocused,
    shownForNothing, playing, paused,
    shownAfterEscape: await shown(),
  };

  // Bookmarks survive a reload when the browser keeps storage for file pages. Under heavy load
  // (twelve test threads: one run in 27, and once in a CI run) Chromium has reloaded the page
  // without the bookmark just set, and another page of the same context never saw it either:
  // then a line is bookmarked again and the page reloaded, three reloads at most, and the
  // report says how many it took and what the page said of its storage before the first.
  report.storageNoteBefore = await page.locator('#storage').innerText();
  report.reloads = 0;
  for (;;) {
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('html[data-ready="1"]');
    report.reloads += 1;
    report.bookmarksAfterReload = await page.locator('#bookmarks li[data-line]').count();
    if (report.bookmarksAfterReload > 0 || report.reloads === 3) break;
    await list.focus();
    await page.keyboard.press('j');
    await page.keyboard.press('b');
  }
  report.storageNote = await page.locator('#storage').innerText();
  report.annotations = await page.locator('#annotations li').allInnerTexts();

  // Still virtualised after all that: only the rows in view are in the DOM.
  report.rowsInDomAtEnd = await rows().count();
  check(report.rowsInDomAtEnd < 200, `${report.rowsInDomAtEnd} rows in the DOM`);
  // The screenshot in the light theme, at the start of the session with its first call open.
  await page.evaluate(() => { document.documentElement.dataset.theme = 'light'; });
  if (input.screenshot) {
    await page.click('#theme');
    await page.click('#theme');
    await list.focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    // The open line's head near the top, with a few lines above it.
    await page.evaluate(() => {
      const row = document.querySelector('#spacer > .row.sel');
      const list = document.querySelector('#list');
      if (row) list.scrollTop = Math.max(0, row.offsetTop - 4 * 25);
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await screenshot(page, input.screenshot);
  }
  assertClean(problems);
  return report;
});
