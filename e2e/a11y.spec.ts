import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { organisationsApiPort, policiesApiPort } from './playwright.config';
import { sessionSid } from './helpers';

/** axe-core finds no WCAG 2.1 A/AA violation on the page as it is now. */
async function accessible(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(results.passes.length).toBeGreaterThan(0); // it did look at the page
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`every page passes axe (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto('/');
    await expect(page.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
    await accessible(page);

    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
    await accessible(page); // the emulator's sign-in page

    await page.getByRole('button', { name: /Dave Ng/ }).click();
    await expect(page.getByRole('note')).toBeVisible();
    await page.getByRole('button', { name: 'Check this sign-in' }).click();
    await expect(page.getByRole('heading', { name: 'Sign-in diagnostics' })).toBeVisible();
    await accessible(page); // signed in, with a notice and the diagnostics

    await page.goto(`/logout?sid=${await sessionSid(page)}`);
    await expect(page.getByRole('status')).toContainText('You were signed out');
    await accessible(page); // signed out, with the reason

    await page.goto('/sso?code=x&state=forged');
    await expect(page.getByRole('alert')).toBeVisible();
    await accessible(page); // an error

    await page.goto(`http://localhost:${organisationsApiPort}/`);
    await expect(page.getByRole('heading', { name: 'Choose your organisation' })).toBeVisible();
    await accessible(page); // the organisation picker
    await page.getByRole('button', { name: 'Fabrikam' }).click();
    await expect(page.getByText('Organisation: Fabrikam')).toBeVisible();
    await accessible(page); // signing in to the organisation picked

    // The emulator's consent page: a Graph scope the registration does not list.
    const authorize = page.waitForRequest(/\/oauth2\/v2\.0\/authorize\?/);
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    const url = new URL((await authorize).url());
    url.searchParams.set('scope', 'openid User.Read');
    await page.goto(url.toString());
    await page.getByRole('button', { name: /Carol Lindqvist/ }).click();
    await expect(page.getByRole('heading', { name: 'Permissions requested' })).toBeVisible();
    await accessible(page);

    // The emulator's MFA prompt (Conditional Access on the app).
    await page.goto(`http://localhost:${policiesApiPort}/`);
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await page.getByRole('button', { name: /Nina Berg/ }).click();
    await expect(page.getByRole('heading', { name: 'Approve sign-in request' })).toBeVisible();
    await accessible(page);
  });
}

test("Microsoft's logo keeps its colours in high-contrast (forced colours) mode", async ({ page }) => {
  await page.emulateMedia({ forcedColors: 'active' });
  await page.goto('/');
  const logo = page.locator('.microsoft .logo');
  await expect(logo).toBeVisible();
  // Forced colours drop gradient backgrounds unless the element opts out; the four squares are
  // gradients.
  const background = await logo.evaluate((element) => getComputedStyle(element).backgroundImage);
  expect(background.match(/linear-gradient/g)).toHaveLength(4);
  await accessible(page);
});
