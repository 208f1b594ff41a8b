//! See the module doc of `super`: owned by issue 14's amplify work.
