// The test page's app: Amplify v6's Auth against Cognate, driven by
// tests/it/user_pools/amplify.rs through WebDriver. The page's query string names the
// pool, the client and Cognate's endpoint (`?pool=...&client=...&endpoint=...`); every
// function on `window.cognate` resolves to plain JSON (an error becomes
// `{ error: { name, message } }`) so the test reads one shape.
import { Amplify } from 'aws-amplify';
import {
  confirmSignUp,
  fetchAuthSession,
  signIn,
  signOut,
  signUp,
} from 'aws-amplify/auth';

const query = new URLSearchParams(window.location.search);

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: query.get('pool'),
      userPoolClientId: query.get('client'),
      // Amplify v6's custom endpoint: every user pools API call is POSTed to this URL
      // instead of cognito-idp.<region>.amazonaws.com.
      userPoolEndpoint: query.get('endpoint'),
      signUpVerificationMethod: 'code',
      loginWith: { username: true, email: true },
    },
  },
});

/** Runs `work` and answers `{ ok: result }` or `{ error: { name, message } }`. */
async function settle(work) {
  try {
    return { ok: await work() };
  } catch (e) {
    return { error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } };
  }
}

/** The refresh token Amplify keeps (its token store in localStorage), if any. */
function storedRefreshToken() {
  for (let i = 0; i < window.localStorage.length; i += 1) {
    const key = window.localStorage.key(i);
    if (key.startsWith('CognitoIdentityServiceProvider.') && key.endsWith('.refreshToken')) {
      return window.localStorage.getItem(key);
    }
  }
  return null;
}

window.cognate = {
  signUp: (username, password, email) =>
    settle(() =>
      signUp({ username, password, options: { userAttributes: { email } } }),
    ),
  confirmSignUp: (username, confirmationCode) =>
    settle(() => confirmSignUp({ username, confirmationCode })),
  // No authFlowType: Amplify's default, USER_SRP_AUTH.
  signIn: (username, password) => settle(() => signIn({ username, password })),
  session: (forceRefresh) =>
    settle(async () => {
      const session = await fetchAuthSession({ forceRefresh });
      return {
        accessToken: session.tokens?.accessToken?.toString() ?? null,
        idToken: session.tokens?.idToken?.toString() ?? null,
        refreshToken: storedRefreshToken(),
        sub: session.userSub ?? null,
      };
    }),
  signOut: (global) => settle(async () => {
    await signOut({ global });
    return { signedOut: true };
  }),
};
window.cognateReady = true;
