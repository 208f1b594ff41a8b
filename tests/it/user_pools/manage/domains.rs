//! Issue 15: domains through the user pools API.
