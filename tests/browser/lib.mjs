// The browser tests' common library: launch Debian's Chromium through playwright-core, open a
// generated page from a file:// URL, and collect everything that would make a page untrustworthy
// (console errors, uncaught page errors, dialogs, and any request that leaves the file).
//
// A script imports `run` and hands it an async function; it receives the JSON input the Rust
// side passed (tests/common/browser.rs) and returns a JSON-able result, printed on one line that
// starts with `RESULT ` so that other output cannot confuse the reader.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/// Every page's problems, so that a failed run can say what the pages said.
const opened = [];

function playwright() {
  const path = process.env.AGENT_STRACE_PLAYWRIGHT;
  if (!path) throw new Error('AGENT_STRACE_PLAYWRIGHT is not set');
  return require(path);
}

/// Throws with `message` when `condition` is false.
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/// A file path as the file:// URL a user's browser would open.
export function fileUrl(path) {
  return pathToFileURL(path).href;
}

/// Launches Chromium headless. The caller closes it (`run` does, whatever happens).
export async function launch() {
  const executablePath = process.env.AGENT_STRACE_CHROMIUM;
  if (!executablePath) throw new Error('AGENT_STRACE_CHROMIUM is not set');
  return playwright().chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

/// Opens `path` (a file) in a new page of `browser` and watches it. Returns `{ page, problems }`;
/// `problems` fills up as the page runs: `console` (console errors), `pageErrors` (uncaught
/// exceptions), `requests` (every request whose URL is not file: or data:, which are also
/// aborted so that nothing leaves the machine) and `dialogs` (alert/confirm/prompt, dismissed).
/// `options`: `colorScheme` ('light' | 'dark'), `viewport` ({width, height}), `beforeLoad`
/// (an async function given the page before it navigates, e.g. to add an init script).
export async function open(browser, path, options = {}) {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? 'light',
    viewport: options.viewport ?? { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const problems = { console: [], pageErrors: [], requests: [], dialogs: [] };
  opened.push({ path, problems });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.console.push(message.text());
  });
  page.on('pageerror', (error) => problems.pageErrors.push(String(error)));
  page.on('dialog', async (dialog) => {
    problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('file:') && !url.startsWith('data:')) problems.requests.push(url);
  });
  await context.route(
    (url) => url.protocol !== 'file:' && url.protocol !== 'data:',
    (route) => route.abort(),
  );
  if (options.beforeLoad) await options.beforeLoad(page);
  await page.goto(fileUrl(path), { waitUntil: 'load' });
  return { page, context, problems };
}

/// Throws when anything landed in `problems` (see `open`).
export function assertClean(problems, what = 'the page') {
  const lines = [];
  for (const text of problems.console) lines.push(`console error: ${text}`);
  for (const text of problems.pageErrors) lines.push(`page error: ${text}`);
  for (const url of problems.requests) lines.push(`network request: ${url}`);
  for (const text of problems.dialogs) lines.push(`dialog: ${text}`);
  if (lines.length) throw new Error(`${what} is not clean:\n  ${lines.join('\n  ')}`);
}

/// Saves a screenshot of `page` to `path` (PNG), the visible viewport only.
export async function screenshot(page, path) {
  await page.screenshot({ path, type: 'png' });
}

/// The script's entry point: `await run(async (input, browser) => result)`. The input is the
/// JSON the test passed as the first argument. The browser is closed afterwards; a thrown error
/// prints its message on stderr and exits 1.
export async function run(main) {
  let browser;
  try {
    const input = JSON.parse(process.argv[2] ?? '{}');
    browser = await launch();
    const result = await main(input, browser);
    process.stdout.write(`RESULT ${JSON.stringify(result ?? null)}\n`);
  } catch (error) {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    for (const { path, problems } of opened) {
      process.stderr.write(`what ${path} reported: ${JSON.stringify(problems)}\n`);
    }
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
}
