//! The end-user actions: sign-up and recovery ([`signup`]: SignUp, ConfirmSignUp,
//! ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword) through the account
//! service, and the actions of a signed-in user holding an access token ([`own`]:
//! GetUser, UpdateUserAttributes, DeleteUserAttributes, VerifyUserAttribute,
//! GetUserAttributeVerificationCode, ChangePassword, DeleteUser, GlobalSignOut), each
//! checked by [`super::access_token_user`].

pub mod own;
pub mod signup;

pub use own::{
    change_password, delete_user, delete_user_attributes, get_user,
    get_user_attribute_verification_code, global_sign_out, update_user_attributes,
    verify_user_attribute,
};
pub use signup::{
    confirm_forgot_password, confirm_sign_up, forgot_password, resend_confirmation_code, sign_up,
};
