// Drives the demo's reference chain in headless Chromium: alice reaches the Connect agent
// workspace and signs out (of the hub and of corp), bob gets the page naming his missing Connect
// user, carol sees no application. corp is another site than the hub, so corp's answer reaches
// the hub as a cross-site POST, as it does from a real corporate IdP.
// Usage: node demo_browser.mjs HUB_URL PASSWORD SCREENSHOT_DIR
// Prints one JSON object with each person's outcome; exits 1 if any expectation fails.
import { createRequire } from 'node:module';
import { join } from 'node:path';

// playwright-core lives with the other peers, outside the repository (CROSSFED_NODE_PEERS).
const require = createRequire(join(process.env.CROSSFED_NODE_PEERS || '.', 'package.json'));
const { chromium } = require('playwright-core');

const [hub, password, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function journey(user) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  try {
    await page.goto(`${hub}/portal`);
    // The hub sends the browser to corp's sign-in page.
    await page.waitForSelector('input[name=user_name]');
    if (user === 'alice') await page.screenshot({ path: join(shots, '1-corp-sign-in.png') });
    await page.fill('input[name=user_name]', user);
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL(/\/portal$/), page.click('button[type=submit]')]);
    if (user === 'alice') await page.screenshot({ path: join(shots, '2-hub-portal.png') });
    const app = page.locator('#app-connect');
    if (await app.count() === 0) {
      const text = await page.textContent('main');
      if (user === 'carol') await page.screenshot({ path: join(shots, '5-carol-no-applications.png') });
      return { user, listed: false, text };
    }
    await Promise.all([page.waitForURL(/\/connect\//), app.locator('button').click()]);
    await page.waitForLoadState('load');
    const text = await page.textContent('main');
    const name = user === 'alice' ? '3-agent-workspace.png' : '4-bob-no-connect-user.png';
    await page.screenshot({ path: join(shots, name) });
    const result = { user, listed: true, url: page.url(), text };
    if (user === 'alice') result.signOut = await signOut(page);
    return result;
  } finally {
    await context.close();
  }
}

// Signs out from the portal: the hub's session ends, corp's single logout ends corp's, and the
// portal afterwards asks for the password at corp again.
async function signOut(page) {
  await page.goto(`${hub}/portal`);
  // hub → corp's single logout → the hub's, which says how it went.
  const back = (url) => url.pathname === '/saml/slo' || url.pathname === '/signed-out';
  await Promise.all([page.waitForURL(back), page.click('form[action="/logout"] button')]);
  const said = await page.textContent('main');
  await page.screenshot({ path: join(shots, '6-signed-out.png') });
  await page.goto(`${hub}/portal`);
  await page.waitForSelector('input[name=user_name]');
  return { said, askedAgain: !page.url().startsWith(hub), at: page.url() };
}

const results = {};
let ok = true;
for (const user of ['alice', 'bob', 'carol']) {
  try {
    results[user] = await journey(user);
  } catch (error) {
    results[user] = { user, error: String(error) };
    ok = false;
  }
}
await browser.close();
const has = (user, words) => (results[user].text || '').includes(words);
ok = ok && results.alice.listed && has('alice', 'Agent workspace') && has('alice', 'alice@example.com');
const out = results.alice.signOut || {};
ok = ok && (out.said || '').includes('signed out of the hub and of your organization') && out.askedAgain === true;
ok = ok && results.bob.listed && has('bob', 'No Amazon Connect user named "bob@example.com"');
ok = ok && results.carol.listed === false && has('carol', 'No applications are assigned to you');
console.log(JSON.stringify({ ok, results }));
process.exit(ok ? 0 : 1);
