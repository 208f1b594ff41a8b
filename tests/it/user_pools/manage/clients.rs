//! Issue 15: clients through the user pools API.
