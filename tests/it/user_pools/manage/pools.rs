//! Issue 15: pools through the user pools API.
