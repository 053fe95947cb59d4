// The administrators' pages over a seeded week, in headless Chromium (Debian's `chromium`, driven
// by playwright-core), run by tests/e2e/glance.rs. Takes one JSON argument:
//   {base, cookie, pages: [{name, path, variants}], screenshots}
// where `cookie` is a signed-in person's Cookie header (an Attio workspace admin) and each
// variant is one of desktop-light, desktop-dark, phone-light, phone-dark. Prints one
// `RESULT <json>` line: for each page and variant, the status, how far the page runs past the
// window's width, the usage totals line, each chart's text alternative and whether its numbers
// are also a table, and the page's text (for the names). Screenshots go to `screenshots`
// (`glance-<page>-<variant>.png`, and `glance-admin-<variant>-top.png`: the first screen of
// /admin; the README shows the desktop one).

import { chromium } from 'playwright-core';

const { base, cookie, pages, screenshots } = JSON.parse(process.argv[2]);
const VARIANTS = {
  'desktop-light': { viewport: { width: 1100, height: 900 }, colorScheme: 'light' },
  'desktop-dark': { viewport: { width: 1100, height: 900 }, colorScheme: 'dark' },
  'phone-light': { viewport: { width: 390, height: 844 }, colorScheme: 'light' },
  'phone-dark': { viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

/** What a page shows: its charts' text alternatives, the totals line, its text, its overflow. */
function look() {
  const charts = [...document.querySelectorAll('svg')].map((svg) => {
    const ids = (svg.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
    const label = ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' — ');
    return {
      role: svg.getAttribute('role'),
      label,
      table: Boolean(svg.closest('figure')?.querySelector('table')),
      bars: svg.querySelectorAll('rect').length,
    };
  });
  // Anything wider than the window (the page scrolling sideways) is overflow.
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  const background = getComputedStyle(document.body).backgroundColor;
  return {
    charts,
    totals: document.querySelector('.totals')?.textContent ?? null,
    text: document.body.innerText,
    overflow,
    background,
  };
}

const result = { pages: {} };
try {
  for (const { name, path, variants } of pages) {
    result.pages[name] = {};
    for (const variant of variants) {
      const context = await browser.newContext({ ...VARIANTS[variant], extraHTTPHeaders: { cookie } });
      const page = await context.newPage();
      const response = await page.goto(`${base}${path}`);
      const seen = await page.evaluate(look);
      seen.status = response.status();
      if (variant !== 'desktop-light') delete seen.text;
      result.pages[name][variant] = seen;
      await page.screenshot({ path: `${screenshots}/glance-${name}-${variant}.png`, fullPage: true });
      if (name === 'admin') {
        await page.screenshot({ path: `${screenshots}/glance-admin-${variant}-top.png` });
      }
      await context.close();
    }
  }
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
}
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(result.error ? 1 : 0);
