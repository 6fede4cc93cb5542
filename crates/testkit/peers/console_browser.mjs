// Drives the hub's admin console in headless Chromium: a wrong token refused, then every page
// with the admin token, the assertion preview for a user, an assignment made and one refused, a
// test sign-in at the IdP, a refused metadata upload, the chain checks and a simulated sign-in,
// the mapping editor of the custom application "wiki" (created beforehand through the API), and
// a key rollover the account is not ready for, which the chain checks then report; each page saved as a screenshot.
// Usage: node console_browser.mjs HUB_URL ADMIN_TOKEN PASSWORD SCREENSHOT_DIR (PASSWORD: alice's, at the IdP)
// Prints one JSON object with what each step saw; exits 1 if any expectation fails.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.env.CROSSFED_NODE_PEERS || '.', 'package.json'));
const { chromium } = require('playwright-core');

const [hub, token, password, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
const page = await context.newPage();
const seen = {};
// Anything the pages' scripts complain about, reported on failure.
seen.console = [];
page.on('console', (m) => seen.console.push(m.text()));
page.on('pageerror', (e) => seen.console.push(String(e)));
const checks = [];
const expect = (name, condition) => checks.push({ name, ok: Boolean(condition) });
const text = async () => (await page.textContent('main')) || '';
const shot = (name) => page.screenshot({ path: join(shots, name), fullPage: true });

try {
  await page.goto(`${hub}/admin`);
  await page.fill('input[name=token]', 'cfadm_wrong-token');
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
  seen.wrong = await text();
  expect('a wrong token is refused', seen.wrong.includes('Sign in to the admin console') && (await page.locator('#message').count()) === 1);
  await shot('console-0-wrong-token.png');

  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL(/\/admin$/), page.click('button[type=submit]')]);
  seen.overview = await text();
  expect('the overview shows the identity source', seen.overview.includes('People sign in at'));
  await shot('console-1-overview.png');

  await page.click('header a[href="/admin/applications"]');
  await page.waitForURL(/\/admin\/applications$/);
  expect('applications are listed', (await page.locator('#app-connect').count()) === 1);
  await shot('console-2-applications.png');

  await page.click('#app-connect a');
  await page.waitForURL(/\/admin\/applications\/connect$/);
  await page.fill('input[name=user]', 'bob@example.com');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Show what the application receives')]);
  seen.preview = await page.textContent('#preview');
  expect('the preview shows the RoleSessionName', seen.preview.includes('RoleSessionName') && seen.preview.includes('bob@example.com'));
  await shot('console-3-preview.png');

  await page.fill('input[name=user]', 'nobody@example.com');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Show what the application receives')]);
  seen.unknown = await page.textContent('#message');
  expect('an unknown user is named', seen.unknown.includes('nobody@example.com'));

  await page.selectOption('select[name=kind]', 'user');
  await page.fill('input[name=name][placeholder=name]', 'carol@example.com');
  await Promise.all([page.waitForLoadState('load'), page.click('button:text-is("Assign")')]);
  seen.assigned = await page.textContent('#message');
  expect('carol is assigned', seen.assigned.includes('carol@example.com is assigned'));
  await shot('console-4-assigned.png');

  for (const [path, name, words] of [
    ['/admin/users', 'console-5-users.png', 'carol@example.com'],
    ['/admin/groups', 'console-5-groups.png', 'Add a group'],
    ['/admin/provisioning', 'console-6-provisioning.png', 'Run a pass now'],
    ['/admin/audit?action=application.assign', 'console-7-audit.png', 'console:bootstrap'],
    ['/admin/keys', 'console-8-keys.png', 'signing now'],
  ]) {
    await page.goto(`${hub}${path}`);
    const body = await text();
    expect(`${path} shows ${words}`, body.includes(words));
    await shot(name);
  }

  // The identity source, and a test sign-in at the IdP that signs nobody in.
  await page.goto(`${hub}/admin/identity-source`);
  expect('the identity source page offers the SP metadata', (await text()).includes('Download the SP metadata'));
  await shot('console-9-identity-source.png');
  await Promise.all([page.waitForSelector('input[name=user_name]'), page.click('text=Run a test sign-in')]);
  await page.fill('input[name=user_name]', 'alice');
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(/\/admin\/identity-source\/test\//), page.click('button[type=submit]')]);
  seen.test = await text();
  expect('the test sign-in shows the assertion', seen.test.includes('Nobody was signed in') && seen.test.includes('alice@example.com'));
  await shot('console-10-test-sign-in.png');

  // Pasting something that is not metadata is refused with the reason.
  await page.goto(`${hub}/admin/identity-source`);
  await page.fill('textarea[name=metadata]', '<EntityDescriptor>not really</EntityDescriptor>');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Trust this metadata')]);
  seen.upload = await page.textContent('#message');
  expect('a broken metadata upload is refused', seen.upload.includes('does not read'));
  expect('the upload page warns about the URL refresh', (await text()).includes('an upload is replaced at the next refresh'));
  await shot('console-11-metadata-refused.png');

  // The chain checks: the demo's deliberate gap is the one broken link.
  await page.click('header a[href="/admin/checks"]');
  await page.waitForURL(/\/admin\/checks$/);
  const broken = await page.locator('tr.finding[data-ok=false]').allTextContents();
  seen.broken = broken;
  expect('the checks name bob\'s missing Connect user alone', broken.length === 1 && broken[0].includes('connect-user') && broken[0].includes('bob@example.com'));
  await shot('console-12-checks.png');
  await page.fill('input[name=user]', 'bob@example.com');
  await Promise.all([page.waitForLoadState('load'), page.click('button:text-is("Simulate")')]);
  seen.simulated = await text();
  expect('the simulation stops where Connect refuses bob', seen.simulated.includes('Simulated sign-in of bob@example.com') && seen.simulated.includes('No Amazon Connect user'));
  await shot('console-13-simulate.png');

  // A custom application added from the catalog, first without its audience (refused).
  await page.goto(`${hub}/admin/applications`);
  await page.selectOption('select[name=template]', 'custom');
  await page.fill('#add-application input[name=id]', 'wiki');
  await page.fill('#add-application input[name=name]', 'Team wiki');
  await page.fill('#add-application input[name=acs_url]', 'https://wiki.example.com/saml/acs');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Add the application')]);
  seen.incomplete = await page.textContent('#message');
  expect('an application without its audience is refused', seen.incomplete.includes('Not added'));
  await page.selectOption('select[name=template]', 'custom');
  await page.fill('#add-application input[name=id]', 'wiki');
  await page.fill('#add-application input[name=name]', 'Team wiki');
  await page.fill('#add-application input[name=acs_url]', 'https://wiki.example.com/saml/acs');
  await page.fill('#add-application input[name=audience]', 'https://wiki.example.com');
  await shot('console-2-add-application.png');
  await Promise.all([page.waitForURL(/\/admin\/applications\/wiki$/), page.click('text=Add the application')]);
  expect('the application is added', (await text()).includes('Team wiki (wiki)'));

  // The mapping editor: a draft previewed, a typo refused, then saved.
  await page.fill('input[name=name_0]', 'team');
  await page.fill('input[name=value_0]', 'support');
  await page.fill('input[name=name_1]', 'mail');
  await page.fill('input[name=value_1]', '${user:emial}');
  await page.fill('input[name=preview_user]', 'alice@example.com');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Save the mappings')]);
  seen.typo = await page.textContent('#message');
  expect('a mistyped variable is refused with a suggestion', seen.typo.includes('Not saved') && seen.typo.includes('user:email'));
  await page.fill('input[name=value_1]', '${user:email}');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Preview the draft')]);
  seen.draft = await page.textContent('#preview');
  expect('the draft is previewed for alice', seen.draft.includes('Draft, not saved') && seen.draft.includes('alice@example.com'));
  await shot('console-14-mapping-draft.png');
  await Promise.all([page.waitForLoadState('load'), page.click('text=Save the mappings')]);
  expect('the mappings are saved', (await page.textContent('#message')).includes('The mappings are saved'));

  // With JavaScript, the draft is previewed as it is typed, without a button.
  await page.fill('input[name=preview_user]', 'alice@example.com');
  await page.fill('input[name=value_0]', 'team-blue');
  await page.waitForFunction(() => (document.getElementById('live-preview')?.textContent || '').includes('team-blue'), null, { timeout: 10000 });
  seen.live = await page.textContent('#live-preview');
  expect('the live preview follows the typing', seen.live.includes('Draft, not saved') && seen.live.includes('team-blue'));
  await shot('console-14-mapping-live.png');

  // Key rollover: the assertion key's next key is staged (published beside the current one);
  // the target account's SAML provider does not trust it yet, so the page says so, activation is
  // refused, and the chain checks name the provider.
  await page.goto(`${hub}/admin/keys`);
  const stage = page.locator('section[data-role="assertion"] button:text-is("Stage a next key")');
  await Promise.all([page.waitForLoadState('load'), stage.click()]);
  seen.staged = await text();
  expect('a next key is staged', seen.staged.includes('staged next'));
  expect('the page says the account does not trust it yet', seen.staged.includes('CrossfedHub does not list certificate'));
  await shot('console-15-key-staged.png');
  const activate = page.locator('section[data-role="assertion"] button:text-is("Activate the next key")');
  await Promise.all([page.waitForLoadState('load'), activate.click()]);
  seen.refused = await page.textContent('#message');
  expect('activation is refused while the account does not trust the next key', seen.refused.includes('activating would break sign-in'));
  await page.goto(`${hub}/admin/checks`);
  const afterStaging = await page.locator('tr.finding[data-ok=false]').allTextContents();
  seen.afterStaging = afterStaging;
  expect('the checks name the provider missing the next key', afterStaging.some((row) => row.includes('provider-next-certificate')));
  await shot('console-16-checks-after-staging.png');
} catch (error) {
  checks.push({ name: 'no exception', ok: false, error: String(error) });
}
await browser.close();
const ok = checks.every((c) => c.ok);
console.log(JSON.stringify(ok ? { ok, checks } : { ok, checks, seen }));
process.exit(ok ? 0 : 1);
