//! Issue 15: providers through the user pools API.
