// A person's walk through the gateway's pages in headless Chromium (Debian's `chromium`, driven
// by playwright-core), run by tests/e2e/browser.rs against the worker in workerd and the mock
// Attio. Takes one JSON argument:
//   {base, clientId, redirectUri, verifier, authorizeUrl, screenshots}
// and prints one `RESULT <json>` line with what it saw. Screenshots go to `screenshots`.
//
// The walk: /setup; an MCP client's authorize URL → our consent page → the mock Attio's sign-in
// → back to the client with a code (redeemed here, as the client would); /account lists the app;
// forged and cross-site revocations are refused; framing is refused; the real Revoke button
// kills the token.

import { chromium } from 'playwright-core';

const input = JSON.parse(process.argv[2]);
const { base, clientId, redirectUri, verifier, authorizeUrl, screenshots } = input;
const result = { headers: {}, steps: [] };
const step = (name) => result.steps.push(name);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

/** A JSON-RPC request to /mcp with the app's token. */
function mcp(token, message) {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  });
}

async function mcpPing(token) {
  return (await mcp(token, { id: 1, method: 'ping' })).status;
}

async function writeTools(token) {
  const list = await (await mcp(token, { id: 2, method: 'tools/list' })).json();
  return list.result.tools.filter((t) => !t.annotations.readOnlyHint).length;
}

function frameHeaders(response) {
  const h = response.headers();
  return { xfo: h['x-frame-options'] ?? null, csp: h['content-security-policy'] ?? null };
}

let page = null;
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();

  // 1. The deployer's checklist.
  const setup = await page.goto(`${base}/setup`);
  result.setupStatus = setup.status();
  result.headers.setup = frameHeaders(setup);
  result.setupReady = (await page.textContent('main')).includes('Ready.');
  await page.screenshot({ path: `${screenshots}/setup.png`, fullPage: true });
  step('setup');

  // 2. An MCP client sends the person to our consent page.
  const consent = await page.goto(authorizeUrl);
  result.headers.consent = frameHeaders(consent);
  result.consentTitle = await page.textContent('h1');
  await page.screenshot({ path: `${screenshots}/consent.png`, fullPage: true });
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  // A second look at a fresh consent page on a phone-sized screen (responsive layout).
  await phone.goto(authorizeUrl);
  await phone.screenshot({ path: `${screenshots}/consent-phone.png`, fullPage: true });
  await phone.close();
  await page.check('input[name=access][value=write]');
  await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
  step('consent');

  // 3. The Attio sign-in (the mock's consent screen), then back through our callback.
  result.attioUrl = page.url();
  await page.screenshot({ path: `${screenshots}/attio-sign-in.png`, fullPage: true });
  await Promise.all([page.waitForURL(`${redirectUri}**`), page.click('#approve')]);
  const code = new URL(page.url()).searchParams.get('code');
  if (!code) throw new Error(`no code came back; at ${page.url()}`);
  step('attio');

  // 4. The client redeems the code (PKCE) and its token works.
  const tokenResponse = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier,
      redirect_uri: redirectUri,
    }),
  });
  const tokens = await tokenResponse.json();
  result.pingBefore = await mcpPing(tokens.access_token);
  step('token');

  // 5. The connected-apps page.
  const account = await page.goto(`${base}/account`);
  result.headers.account = frameHeaders(account);
  result.accountStatus = account.status();
  const accountText = await page.textContent('main');
  result.accountListsApp = accountText.includes('Browser test app') && accountText.includes('read-write');
  await page.screenshot({ path: `${screenshots}/account.png`, fullPage: true });
  const grantId = await page.getAttribute('input[name=grant_id]', 'value');
  step('account');

  // 5b. The administrators' page (the person is an admin of their Attio workspace): the app is
  // listed, and turning writes off with the policy form takes effect on the app's next call.
  const admin = await page.goto(`${base}/admin`);
  result.headers.admin = frameHeaders(admin);
  result.adminStatus = admin.status();
  result.adminListsApp = (await page.textContent('main')).includes('Browser test app');
  await page.screenshot({ path: `${screenshots}/admin.png`, fullPage: true });
  result.writeToolsBefore = await writeTools(tokens.access_token);
  result.policyFormShown = (await page.$('input[name=writes_off]')) !== null;
  if (result.policyFormShown) {
    await page.check('input[name=writes_off]');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/admin/policy"] button')]);
    result.writeToolsUnderPolicy = await writeTools(tokens.access_token);
    await page.screenshot({ path: `${screenshots}/admin-policy.png`, fullPage: true });
    await page.uncheck('input[name=writes_off]');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/admin/policy"] button')]);
    result.writeToolsAfter = await writeTools(tokens.access_token);
  }
  // Issue 29: nothing on /admin runs off the page, at 1,100 px and on a phone (tables wrap or
  // scroll inside their box). The audit log now holds this walk's calls.
  result.adminOverflow = {};
  for (const [label, width, height] of [['desktop', 1100, 900], ['phone', 390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.goto(`${base}/admin`);
    result.adminOverflow[label] = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: `${screenshots}/admin-${label}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(`${base}/account`);
  step('admin');

  // 6. CSRF: a forged token from the person's own browser, and a form posted from another site.
  const forged = await page.request.post(`${base}/account/revoke`, {
    form: { csrf: 'forged', grant_id: grantId },
    maxRedirects: 0,
  });
  result.forgedStatus = forged.status();
  const attacker = await context.newPage();
  await attacker.setContent(
    `<form method=post action="${base}/account/revoke"><input name=grant_id value="${grantId}"></form>`,
  );
  const [crossSite] = await Promise.all([
    attacker.waitForNavigation(),
    attacker.evaluate(() => document.forms[0].submit()),
  ]);
  result.crossSiteStatus = crossSite ? crossSite.status() : null;
  await attacker.close();
  result.pingAfterAttacks = await mcpPing(tokens.access_token);
  step('csrf');

  // 7. Clickjacking: the page refuses to render inside a frame.
  const framer = await context.newPage();
  await framer.setContent(`<iframe id=f src="${base}/account" width=600 height=400></iframe>`);
  await framer.waitForTimeout(1000);
  const frame = framer.frames().find((f) => f !== framer.mainFrame());
  const framed = frame ? await frame.content().catch(() => '') : '';
  result.framedRendered = framed.includes('connected apps');
  await framer.screenshot({ path: `${screenshots}/framing-refused.png` });
  await framer.close();
  step('framing');

  // 8. Revoke with the real button: the token dies at once.
  await Promise.all([page.waitForNavigation(), page.click(`form[action="/account/revoke"] button`)]);
  result.afterRevokeUrl = page.url();
  result.appGone = !(await page.textContent('main')).includes('Browser test app');
  await page.screenshot({ path: `${screenshots}/account-after-revoke.png`, fullPage: true });
  result.pingAfterRevoke = await mcpPing(tokens.access_token);
  step('revoke');

  // 9. An error page, in the same design.
  await page.goto(`${base}/oauth/attio/callback?code=x&state=forged`);
  await page.screenshot({ path: `${screenshots}/error-page.png`, fullPage: true });
  step('error-page');
} catch (error) {
  result.error = String(error?.stack ?? error);
  if (page) {
    result.lastUrl = page.url();
    result.lastText = (await page.textContent('body').catch(() => ''))?.slice(0, 500);
    await page.screenshot({ path: `${screenshots}/failure.png`, fullPage: true }).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(result.error ? 1 : 0);
