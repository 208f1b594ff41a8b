//! Issue 15: lifecycle through the user pools API.
