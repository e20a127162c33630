// The benchmark's peer for the SPA: the same job written the way Microsoft documents it, with
// MSAL React on React 19. Redirect sign-in with PKCE, the API's scope acquired silently,
// GET /api/me, the channels listed, sign-out. Its settings come from the page (the bench serves
// them, and /api/ on the same origin).
import { InteractionRequiredAuthError, InteractionStatus, PublicClientApplication } from '@azure/msal-browser';
import { MsalProvider, useIsAuthenticated, useMsal } from '@azure/msal-react';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

const settings = JSON.parse(document.getElementById('settings').textContent);
const msal = new PublicClientApplication({
  auth: {
    clientId: settings.clientId,
    authority: settings.authority,
    knownAuthorities: [new URL(settings.authority).host],
    redirectUri: `${window.location.origin}/sso`,
    postLogoutRedirectUri: `${window.location.origin}/sso`,
  },
  cache: { cacheLocation: 'sessionStorage' },
});

function Channels() {
  const { instance, accounts } = useMsal();
  const account = accounts[0];
  const [me, setMe] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const request = { scopes: [settings.scope], account };
    instance
      .acquireTokenSilent(request)
      .catch((e) => {
        if (e instanceof InteractionRequiredAuthError) return instance.acquireTokenRedirect(request);
        throw e;
      })
      .then((result) => fetch('/api/me', { headers: { Authorization: `Bearer ${result.accessToken}` } }))
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`the API answered ${response.status}`))))
      .then(setMe, (e) => setError(String(e)));
  }, [instance, account]);
  return (
    <section>
      <h1>{account.name}</h1>
      <p>{account.username}</p>
      {error && <p role="alert">{error}</p>}
      {me ? (
        <ul aria-label="Your channels">
          {me.channels.map((channel) => (
            <li key={channel}>{channel}</li>
          ))}
        </ul>
      ) : (
        !error && <p role="status">Loading your channels…</p>
      )}
      <button onClick={() => instance.logoutRedirect({ account })}>Sign out</button>
    </section>
  );
}

function App() {
  const { instance, inProgress } = useMsal();
  const signedIn = useIsAuthenticated();
  if (signedIn) return <Channels />;
  if (inProgress !== InteractionStatus.None) return <p role="status">Loading…</p>;
  return <button onClick={() => instance.loginRedirect({ scopes: [settings.scope] })}>Sign in with Microsoft</button>;
}

msal.initialize().then(() =>
  createRoot(document.getElementById('root')).render(
    <StrictMode>
      <MsalProvider instance={msal}>
        <App />
      </MsalProvider>
    </StrictMode>,
  ),
);
