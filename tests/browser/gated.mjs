// The consent page behind a gate, in Chromium: for each login the test hands in (for Cloudflare
// Access: valid, expired, for another application, signed by another key, none) the browser
// sends it as Cloudflare's edge would (`Cf-Access-Jwt-Assertion` on every request) and opens
// the page; a screenshot of each is kept (`gated-<name>.png`). Owner mode uses it with no
// login to show its password gate. Input (argv[2], JSON):
//   {authorizeUrl, logins: {name: token|null}, screenshots}
// Output: one `RESULT <json>` line: {name: {status, title, text}}.

import { chromium } from 'playwright-core';

const { authorizeUrl, logins, screenshots } = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
});
const result = {};
try {
  for (const [name, token] of Object.entries(logins)) {
    const headers = token ? { 'cf-access-jwt-assertion': token } : {};
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, extraHTTPHeaders: headers });
    const page = await context.newPage();
    const response = await page.goto(authorizeUrl);
    result[name] = {
      status: response.status(),
      title: await page.textContent('h1'),
      text: (await page.textContent('main')).slice(0, 2000),
    };
    await page.screenshot({ path: `${screenshots}/gated-${name}.png`, fullPage: true });
    await context.close();
  }
} catch (error) {
  result.error = String(error?.stack ?? error);
}
await browser.close();
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(result.error ? 1 : 0);
