//! Issue 15: MFA preferences through the user pools API (SetUserMFAPreference, AdminSetUserMFAPreference).
