// Signs in at a hub served over HTTPS, in headless Chromium that trusts the hub's certificate by
// its public key hash only (--ignore-certificate-errors-spki-list), not by ignoring every error.
// Usage: node tls_browser.mjs HUB_URL SPKI_SHA256_BASE64 USER PASSWORD SCREENSHOT_DIR
// Prints one JSON object: where the sign-in landed, the portal's HSTS header, the cookies the
// browser keeps (name, secure, httpOnly) and whether the portal lists the wiki; exits 1 on error.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.env.CROSSFED_NODE_PEERS || '.', 'package.json'));
const { chromium } = require('playwright-core');

const [hub, spki, user, password, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--ignore-certificate-errors-spki-list=${spki}`],
});
let result;
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  await page.goto(`${hub}/portal`);
  await page.waitForSelector('input[name=user_name]');
  await page.fill('input[name=user_name]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(/\/portal$/), page.click('button[type=submit]')]);
  const portal = await page.goto(`${hub}/portal`);
  await page.screenshot({ path: join(shots, 'tls-portal.png') });
  const cookies = (await context.cookies(hub)).map(({ name, secure, httpOnly }) => ({ name, secure, httpOnly }));
  result = {
    url: page.url(),
    status: portal.status(),
    hsts: portal.headers()['strict-transport-security'] || null,
    cookies,
    listed: (await page.locator('#app-wiki').count()) > 0,
    text: await page.textContent('main'),
  };
  await context.close();
} catch (error) {
  result = { error: String(error) };
}
await browser.close();
console.log(JSON.stringify(result));
process.exit(result.error ? 1 : 0);
