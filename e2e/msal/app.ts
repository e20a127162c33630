// An ordinary single-page app written against Microsoft's own library, unmodified: it signs in
// by redirect, acquires the API's scope silently, refreshes it, and signs out. msal.spec.ts runs
// it against the Entra emulator to prove the emulator behaves as Entra does for a client this
// project did not write. Its settings come from the page (the test serves them).
import { PublicClientApplication, type AuthenticationResult } from '@azure/msal-browser';

type Settings = { clientId: string; authority: string; scope: string };

const settings: Settings = JSON.parse(document.getElementById('settings')!.textContent!);
const origin = window.location.origin;
const msal = new PublicClientApplication({
  auth: {
    clientId: settings.clientId,
    authority: settings.authority,
    // The emulator's host is not Microsoft's: trusted as a known authority, as a B2C or
    // sovereign-cloud app would name its own.
    knownAuthorities: [new URL(settings.authority).host],
    redirectUri: `${origin}/sso`,
    postLogoutRedirectUri: `${origin}/sso`,
  },
  cache: { cacheLocation: 'sessionStorage' },
});

const show = (id: string, text: string) => {
  document.getElementById(id)!.textContent = text;
};

function showToken(result: AuthenticationResult) {
  show('access-token', result.accessToken);
  show('scopes', result.scopes.join(' '));
}

async function run(action: () => Promise<unknown>) {
  try {
    show('error', '');
    await action();
  } catch (error) {
    show('error', `${(error as { errorCode?: string }).errorCode ?? ''} ${String(error)}`);
  }
}

function account() {
  const account = msal.getAllAccounts()[0];
  if (!account) throw new Error('no account is signed in');
  return account;
}

function acquire(forceRefresh: boolean) {
  return run(async () => showToken(await msal.acquireTokenSilent({ scopes: [settings.scope], account: account(), forceRefresh })));
}

const button = (name: string, action: () => void) => {
  const element = document.createElement('button');
  element.textContent = name;
  element.addEventListener('click', action);
  document.getElementById('actions')!.append(element);
};

button('Sign in', () => run(() => msal.loginRedirect({ scopes: [settings.scope] })));
button('Get token', () => acquire(false));
button('Refresh token', () => acquire(true));
button('Sign out', () => run(() => msal.logoutRedirect({ account: account() })));

await run(async () => {
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  if (result) showToken(result);
  const signedIn = msal.getAllAccounts()[0];
  show('account', signedIn ? `${signedIn.username} (${signedIn.homeAccountId})` : 'signed out');
});
show('status', 'ready');
