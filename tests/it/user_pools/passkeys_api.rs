//! Issue 15: passkeys through the user pools API (StartWebAuthnRegistration ... DeleteWebAuthnCredential, USER_AUTH with WEB_AUTHN).
