// Opens a page made from a hostile session (tests/html_replay.rs plants script in prompts,
// arguments, results, file names, titles and annotations), expands every row so that every
// event's JSON is on the page, and reports whether anything the session wrote ran or became
// markup. Dialogs, console errors (a CSP refusal is one) and requests fail the run (lib.mjs).
//
// input: { path, payloads: [strings that must be on the page as text] }; `hidden` reports the
// characters on the page that reorder or hide text (they should show as escapes).

import { assertClean, open, run } from './lib.mjs';

await run(async (input, browser) => {
  const { page, problems } = await open(browser, input.path);
  await page.waitForSelector('html[data-ready="1"]');
  // Open every row, one by one, and read its text and links while it is in the DOM (the list
  // is virtualised: rows out of view are not there).
  let rowsExpanded = 0;
  const texts = [];
  const shown = [];
  const links = [];
  const total = Number(await page.locator('#list').getAttribute('data-lines'));
  for (let i = 0; i < total; i++) {
    const row = page.locator(`#spacer > .row[data-line="${i}"]`);
    await row.scrollIntoViewIfNeeded();
    await row.locator('.head').click();
    rowsExpanded += await row.locator('.body').count();
    for (const href of await row.locator('a[href]').evaluateAll((as) => as.map((a) => a.href))) {
      if (!links.includes(href)) links.push(href);
    }
    shown.push(await row.evaluate((r) => r.innerText));
    texts.push(await row.evaluate((r) => r.innerText + '\n'
      + [...r.querySelectorAll('pre.json')].map((p) => JSON.stringify(JSON.parse(p.textContent))).join('\n')));
  }
  await page.waitForTimeout(300);
  const seen = await page.evaluate(() => {
    const all = [...document.querySelectorAll('*')];
    return {
      pwned: window.__pwned ?? null,
      foreignElements: all.filter((e) => ['IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED', 'svg'].includes(e.tagName)).map((e) => e.outerHTML.slice(0, 80)),
      handlerAttributes: all.flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName} ${a.name}`)),
      scripts: document.scripts.length,
      text: document.body.innerText + '\n' + document.title,
    };
  });
  seen.links = links;
  // Characters that reorder a line, draw nothing or drive a terminal, as the page shows them
  // (src/model/text.rs's is_hostile; a Windows line end is no such thing): none should be.
  // A subdivision flag's tags (after its black flag) are no such thing either.
  const flag = /\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{2,6}\u{E007F}/gu;
  // So is a joiner or selector where the character before cannot take it (is_hidden_after).
  const hidden = /\r(?!\n)|(?<=^|[\0-\x7f])[\u200c\u200d]|(?<=^|[\0-\x22\x24-\x29\x2b-\x2f\x3a-\x7f\ufe00-\ufe0f\u{e0100}-\u{e01ef}])[\ufe00-\ufe0f]|(?<![\u1820-\u18aa])[\u180b-\u180d\u180f]|[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu;
  const onPage = (seen.text + '\n' + shown.join('\n')).replace(flag, '\u{1F3F4}');
  seen.hidden = [...new Set(onPage.match(hidden) ?? [])].map((c) => 'U+' + c.codePointAt(0).toString(16).padStart(4, '0'));
  seen.text += '\n' + texts.join('\n');
  // A payload counts as shown when the page's text holds it, or its JSON holds it as a value.
  seen.missing = input.payloads.filter((p) => !seen.text.includes(p) && !seen.text.includes(JSON.stringify(p).slice(1, -1)));
  delete seen.text;
  seen.rowsExpanded = rowsExpanded;
  assertClean(problems, 'the hostile page');
  return seen;
});
