//! AdminCreateUser's invitation: the temporary password drawn for the pool's policy, and
//! where the invitation goes (email, or SMS through the pool's custom SMS sender).

use crate::core::delivery::{normalize_phone, Destination, NO_SMS_SENDER};
use crate::core::model::PasswordPolicy;
use crate::core::secrets::{random_bytes, SecretString};

use super::super::{AccountError, AccountResult};
use super::DeliveryMedium;

/// A random temporary password that satisfies `policy`: at least 12 characters with one
/// of each required class, the rest drawn from all classes, uniformly from the OS CSPRNG.
/// (Cognito generates one the same way when AdminCreateUser is given none.)
pub fn generate_temporary_password(policy: &PasswordPolicy) -> SecretString {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    // A subset of Cognito's symbols that needs no quoting in a shell.
    const SYMBOLS: &[u8] = b"!#%*+-=@^_";
    let len = (policy.minimum_length as usize).max(12);
    let mut chars: Vec<u8> = Vec::with_capacity(len);
    for (class, required) in [
        (UPPER, policy.require_uppercase),
        (LOWER, policy.require_lowercase),
        (DIGITS, policy.require_numbers),
        (SYMBOLS, policy.require_symbols),
    ] {
        if required {
            chars.push(pick(class));
        }
    }
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    while chars.len() < len {
        chars.push(pick(&all));
    }
    // Fisher-Yates, so the required characters are not always in front.
    for i in (1..chars.len()).rev() {
        let j = uniform(i + 1);
        chars.swap(i, j);
    }
    SecretString::new(String::from_utf8_lossy(&chars).into_owned())
}

fn pick(alphabet: &[u8]) -> u8 {
    alphabet[uniform(alphabet.len())]
}

/// A uniform index below `n` (n <= 256) from the OS CSPRNG, by rejection sampling.
fn uniform(n: usize) -> usize {
    let limit = 256 - (256 % n);
    loop {
        let [b] = random_bytes::<1>();
        if (b as usize) < limit {
            return b as usize % n;
        }
    }
}

/// Where an invitation goes: each medium asked, to the user's email address or phone
/// number (E.164). Without `DesiredDeliveryMediums`, email when the user has an address,
/// else SMS when the user has a phone number and the pool can send SMS (Cognito's default
/// is SMS). A medium that cannot be honoured is refused rather than silently not sent:
/// SMS needs the pool's custom SMS sender ([`sms_available`]) and a phone number.
pub(super) fn invitation_targets(
    sms: bool,
    user_email: Option<&str>,
    user_phone: Option<&str>,
    mediums: &[DeliveryMedium],
) -> AccountResult<Vec<Destination>> {
    let email = user_email.filter(|e| !e.is_empty());
    let phone = user_phone.filter(|p| !p.is_empty());
    let asked: Vec<DeliveryMedium> = if !mediums.is_empty() {
        mediums.to_vec()
    } else if email.is_none() && phone.is_some() && sms {
        vec![DeliveryMedium::Sms]
    } else {
        vec![DeliveryMedium::Email]
    };
    let mut out = Vec::new();
    for medium in asked {
        let to = match medium {
            DeliveryMedium::Email => Destination::Email(
                email
                    .ok_or_else(|| {
                        AccountError::param(
                            "DesiredDeliveryMediums",
                            "the invitation goes by email and the user has no email attribute; \
                             give one, or use MessageAction SUPPRESS",
                        )
                    })?
                    .to_string(),
            ),
            DeliveryMedium::Sms if !sms => {
                return Err(AccountError::param(
                    "DesiredDeliveryMediums",
                    format!(
                        "{NO_SMS_SENDER}; use [\"EMAIL\"], or MessageAction SUPPRESS and hand \
                         the temporary password over yourself"
                    ),
                ))
            }
            DeliveryMedium::Sms => Destination::Phone(normalize_phone(phone.ok_or_else(|| {
                AccountError::param(
                    "DesiredDeliveryMediums",
                    "the invitation goes by SMS and the user has no phone_number \
                         attribute; give one, or use MessageAction SUPPRESS",
                )
            })?)),
        };
        if !out.contains(&to) {
            out.push(to);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::password::check_policy;

    #[test]
    fn generated_passwords_meet_the_policy() {
        let mut policy = PasswordPolicy::default();
        for _ in 0..200 {
            let pw = generate_temporary_password(&policy);
            assert!(check_policy(&policy, pw.expose()).is_ok());
        }
        policy.minimum_length = 40;
        assert_eq!(generate_temporary_password(&policy).expose().len(), 40);
    }

    #[test]
    fn invitations_go_by_the_mediums_the_pool_can_honour() {
        let email = |a: &str| Destination::Email(a.into());
        let phone = |p: &str| Destination::Phone(p.into());
        // SMS without a custom SMS sender is refused by name.
        let e = invitation_targets(
            false,
            Some("a@b.c"),
            Some("+15555550100"),
            &[DeliveryMedium::Sms],
        )
        .unwrap_err();
        assert!(e.to_string().contains("DesiredDeliveryMediums"), "{e}");
        assert!(e.to_string().contains("custom SMS sender"), "{e}");
        let e = invitation_targets(false, None, None, &[]).unwrap_err();
        assert!(e.to_string().contains("no email attribute"), "{e}");
        assert_eq!(
            invitation_targets(false, Some("a@b.c"), None, &[DeliveryMedium::Email]).unwrap(),
            vec![email("a@b.c")]
        );
        // With a sender: SMS to the normalized number; the default is email when there
        // is an address, else SMS.
        assert_eq!(
            invitation_targets(true, None, Some("+1 555 555-0100"), &[DeliveryMedium::Sms])
                .unwrap(),
            vec![phone("+15555550100")]
        );
        assert_eq!(
            invitation_targets(true, None, Some("+15555550100"), &[]).unwrap(),
            vec![phone("+15555550100")]
        );
        assert_eq!(
            invitation_targets(true, Some("a@b.c"), Some("+15555550100"), &[]).unwrap(),
            vec![email("a@b.c")]
        );
        let e = invitation_targets(true, Some("a@b.c"), None, &[DeliveryMedium::Sms]).unwrap_err();
        assert!(e.to_string().contains("no phone_number"), "{e}");
    }
}
