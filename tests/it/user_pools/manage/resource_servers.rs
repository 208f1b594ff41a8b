//! Issue 15: resource_servers through the user pools API.
