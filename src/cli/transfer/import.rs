//! `cognate users import`: streams a JSON Lines file into the pool in batches.

use super::*;
use crate::core::secrets::MasterKey;

/// Counts for the summary, and how many messages were printed per kind.
#[derive(Debug, Default)]
struct Stats {
    imported: u64,
    /// The same user (sub and username) was there already: an earlier run imported it.
    present: u64,
    /// Collided with a different existing user.
    skipped: u64,
    /// Invalid lines.
    rejected: u64,
    groups_created: u64,
    memberships: u64,
    /// Records whose `mfa` was ignored (no `--include-mfa`).
    mfa_ignored: u64,
}

/// A valid line waiting for its batch.
struct Pending {
    line: u64,
    groups: Vec<String>,
}

/// Reports one line's problem on stderr (above the progress bar), up to
/// [`MAX_REPORTED`] per kind.
fn report(bar: &ProgressBar, count: u64, message: String) {
    if count <= MAX_REPORTED {
        bar.suspend(|| eprintln!("{message}"));
    } else if count == MAX_REPORTED + 1 {
        bar.suspend(|| eprintln!("(further lines of this kind are only counted)"));
    }
}

pub async fn import(node: &Node, args: ImportArgs) -> CliResult {
    let pool = require_pool(node, &args.pool).await?;
    if !(1..=10_000).contains(&args.batch_size) {
        return Err(CliError(format!(
            "--batch-size: {} is outside 1 to 10000",
            args.batch_size
        )));
    }
    let (mut reader, len): (Box<dyn BufRead>, Option<u64>) = if args.file == "-" {
        (Box::new(BufReader::new(std::io::stdin().lock())), None)
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| CliError(format!("FILE: cannot open {}: {e}", args.file)))?;
        let len = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 20, file)), len)
    };
    let bar = progress_bar(
        len,
        args.quiet,
        "{spinner} importing [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} ({eta}) {msg}",
    );
    let mut known_groups: HashSet<String> = node
        .store
        .list_groups(&pool.id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let now = now();
    let mut stats = Stats::default();
    let mut users: Vec<User> = Vec::with_capacity(args.batch_size);
    let mut pending: Vec<Pending> = Vec::with_capacity(args.batch_size);
    let mut batch_subs: HashSet<String> = HashSet::new();
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut line_no: u64 = 0;
    let mut bytes: u64 = 0;
    loop {
        buf.clear();
        let n = read_line(&mut reader, &mut buf)
            .map_err(|e| CliError(format!("reading {} after line {line_no}: {e}", args.file)))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        let parsed = std::str::from_utf8(&buf)
            .map_err(|_| "the line is not UTF-8".to_string())
            .and_then(|text| {
                let text = text.trim();
                if text.is_empty() {
                    Ok(None)
                } else {
                    let master = args.include_mfa.then_some(node.master.as_ref());
                    parse_record(&pool, text, now, master).map(Some)
                }
            });
        match parsed {
            Ok(None) => {}
            Ok(Some((user, groups, mfa_ignored))) => {
                if mfa_ignored {
                    stats.mfa_ignored += 1;
                }
                if !batch_subs.insert(user.sub.clone()) {
                    stats.rejected += 1;
                    let m = format!(
                        "line {line_no}: sub {} appears on an earlier line",
                        user.sub
                    );
                    report(&bar, stats.rejected, m);
                    continue;
                }
                users.push(user);
                pending.push(Pending {
                    line: line_no,
                    groups,
                });
            }
            Err(reason) => {
                stats.rejected += 1;
                report(&bar, stats.rejected, format!("line {line_no}: {reason}"));
            }
        }
        if users.len() >= args.batch_size {
            write_batch(
                node,
                &pool,
                &users,
                &pending,
                &mut known_groups,
                &mut stats,
                &bar,
                now,
            )
            .await?;
            users.clear();
            pending.clear();
            batch_subs.clear();
            bar.set_position(bytes);
            bar.set_message(format!("{} users", stats.imported));
        }
    }
    if !users.is_empty() {
        write_batch(
            node,
            &pool,
            &users,
            &pending,
            &mut known_groups,
            &mut stats,
            &bar,
            now,
        )
        .await?;
    }
    bar.finish_and_clear();
    println!(
        "imported {} user(s) into pool {}; {} already present, {} skipped (collision), {} \
         rejected (invalid); {} group(s) created, {} membership(s) added",
        stats.imported,
        pool.id,
        stats.present,
        stats.skipped,
        stats.rejected,
        stats.groups_created,
        stats.memberships
    );
    if stats.mfa_ignored > 0 {
        println!(
            "ignored the second factors (mfa) of {} user(s): give --include-mfa to import them",
            stats.mfa_ignored
        );
    }
    if stats.rejected > 0 {
        return Err(CliError(format!(
            "{} line(s) of {} were rejected (see above); fix them and import the file again \
             (users already imported are recognized and skipped)",
            stats.rejected, args.file
        )));
    }
    Ok(())
}

/// Reads one line (with its newline) as bytes, so a line that is not UTF-8 is reported
/// with its number instead of ending the import.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    reader.read_until(b'\n', buf)
}

/// Writes one batch in one transaction, then its groups, then its memberships in one more.
#[allow(clippy::too_many_arguments)]
async fn write_batch(
    node: &Node,
    pool: &UserPool,
    users: &[User],
    pending: &[Pending],
    known_groups: &mut HashSet<String>,
    stats: &mut Stats,
    bar: &ProgressBar,
    now: UnixTime,
) -> CliResult {
    let outcome = node.store.import_users(users).await?;
    stats.imported += outcome.inserted;
    let skipped: HashSet<&str> = outcome.skipped.iter().map(String::as_str).collect();
    let mut members: Vec<(String, String)> = Vec::new();
    for (user, meta) in users.iter().zip(pending) {
        if skipped.contains(user.sub.as_str()) {
            match collision(node, pool, user).await? {
                None => stats.present += 1,
                Some(reason) => {
                    stats.skipped += 1;
                    report(
                        bar,
                        stats.skipped,
                        format!("line {}: skipped: {reason}", meta.line),
                    );
                    continue;
                }
            }
        }
        for group in &meta.groups {
            if !known_groups.contains(group) {
                if node.store.get_group(&pool.id, group).await?.is_none() {
                    node.directory
                        .put_group(
                            pool,
                            GroupSpec {
                                name: group.to_string(),
                                ..GroupSpec::default()
                            },
                            Origin::Api,
                            now,
                        )
                        .await
                        .map_err(|e| CliError(format!("creating group {group:?}: {e}")))?;
                    stats.groups_created += 1;
                }
                known_groups.insert(group.clone());
            }
            members.push((group.clone(), user.sub.clone()));
        }
    }
    if !members.is_empty() {
        node.store.add_members(&pool.id, &members).await?;
        stats.memberships += members.len() as u64;
    }
    Ok(())
}

/// Why an imported user was skipped, or `None` when the same user (sub and username) is
/// stored already.
async fn collision(node: &Node, pool: &UserPool, user: &User) -> Result<Option<String>, CliError> {
    let store = &node.store;
    if let Some(existing) = store
        .get_user(&pool.id, &UserRef::Sub(user.sub.clone()))
        .await?
    {
        return Ok(if existing.username == user.username {
            None
        } else {
            Some(format!(
                "sub {} belongs to existing user {}",
                user.sub, existing.username
            ))
        });
    }
    let l = &user.lookup;
    if store
        .get_user(&pool.id, &UserRef::Username(l.username.clone()))
        .await?
        .is_some()
    {
        return Ok(Some(format!("username {:?} is taken", user.username)));
    }
    let aliases = [
        (l.email.clone().map(UserRef::Email), "email"),
        (
            l.phone_number.clone().map(UserRef::PhoneNumber),
            "phone_number",
        ),
        (
            l.preferred_username.clone().map(UserRef::PreferredUsername),
            "preferred_username",
        ),
    ];
    for (by, name) in aliases {
        if let Some(by) = by {
            if store.get_user(&pool.id, &by).await?.is_some() {
                return Ok(Some(format!("attribute {name} belongs to another user")));
            }
        }
    }
    // Usernames and aliases are one space (a username may not be another user's alias,
    // nor the reverse): name the kind the other user holds the key as.
    let keys = [
        (Some(l.username.clone()), "username"),
        (l.email.clone(), "attribute email"),
        (l.phone_number.clone(), "attribute phone_number"),
        (l.preferred_username.clone(), "attribute preferred_username"),
    ];
    for (key, name) in keys {
        let Some(key) = key else { continue };
        for (by, held_as) in [
            (UserRef::Username(key.clone()), "username"),
            (UserRef::Email(key.clone()), "email"),
            (UserRef::PhoneNumber(key.clone()), "phone_number"),
            (UserRef::PreferredUsername(key), "preferred_username"),
        ] {
            if store.get_user(&pool.id, &by).await?.is_some() {
                return Ok(Some(format!("{name} is another user's {held_as}")));
            }
        }
    }
    for i in &user.identities {
        let by = UserRef::Federated(i.provider_name.clone(), i.user_id.clone());
        if store.get_user(&pool.id, &by).await?.is_some() {
            return Ok(Some(format!(
                "identity {}:{} is linked to another user",
                i.provider_name, i.user_id
            )));
        }
    }
    Ok(Some("collides with an existing user".into()))
}

/// Validates one line and builds the user to store (with its lookup keys) and its groups,
/// and whether the record's second factors were ignored. With `master` (`--include-mfa`)
/// the record's `mfa` is checked and imported, its TOTP keys sealed under `master`.
fn parse_record(
    pool: &UserPool,
    text: &str,
    now: UnixTime,
    master: Option<&MasterKey>,
) -> Result<(User, Vec<String>, bool), String> {
    let record: UserRecord =
        serde_json::from_str(text).map_err(|e| format!("not a user record: {e}"))?;
    let sub = uuid::Uuid::parse_str(&record.sub)
        .ok()
        .map(|u| u.hyphenated().to_string())
        .filter(|canonical| *canonical == record.sub)
        .ok_or_else(|| {
            format!(
                "sub: {:?} is not a UUID in lowercase hyphenated form \
                 (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                record.sub
            )
        })?;
    validate_username(&record.username).map_err(|e| format!("username: {e}"))?;
    let status = UserStatus::parse(&record.status).ok_or_else(|| {
        format!(
            "status: {:?} is not a user status; use UNCONFIRMED, CONFIRMED, \
             FORCE_CHANGE_PASSWORD, RESET_REQUIRED or EXTERNAL_PROVIDER",
            record.status
        )
    })?;
    let mut attributes: BTreeMap<String, String> = record
        .attributes
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    // Exports from Cognito repeat the sub as an attribute; it must agree.
    if let Some(attr_sub) = attributes.remove("sub") {
        if attr_sub != sub {
            return Err(format!(
                "attribute sub {attr_sub:?} differs from the record's sub"
            ));
        }
    }
    validate_attributes(pool, &attributes, false).map_err(|e| format!("attribute {e}"))?;
    let username = username_for(pool, &record.username, &sub, &mut attributes)?;
    // A federated user's name and attributes are no sign-in identifiers of its own
    // choosing; a local user's obey the directory's rules (an email-shaped username in a
    // pool that signs in by email would capture another user's sign-in).
    if status != UserStatus::ExternalProvider {
        if pool.username_attributes.is_empty() {
            check_username(pool, &username).map_err(|e| e.to_string())?;
        }
        check_login_attributes(pool, &attributes).map_err(|e| e.to_string())?;
    }
    if let Some(hash) = &record.password_hash {
        inspect(hash.expose()).map_err(|e| format!("password_hash: {e}"))?;
    }
    let mut groups: Vec<String> = Vec::with_capacity(record.groups.len());
    for g in record.groups {
        if g.is_empty()
            || g.chars().count() > 128
            || g.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "groups: {g:?} is not a group name (1 to 128 characters, no spaces)"
            ));
        }
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    if record.identities.len() > MAX_IDENTITIES {
        return Err(format!(
            "identities: at most {MAX_IDENTITIES} per user (Cognito's limit)"
        ));
    }
    for (k, i) in record.identities.iter().enumerate() {
        if i.provider_name.is_empty() || i.user_id.is_empty() {
            return Err(format!(
                "identities[{k}]: provider_name and user_id must not be empty"
            ));
        }
        if record.identities[..k]
            .iter()
            .any(|o| o.provider_name == i.provider_name)
        {
            return Err(format!(
                "identities[{k}]: provider {:?} is linked twice",
                i.provider_name
            ));
        }
    }
    let (mfa, mfa_ignored) = match (record.mfa, master) {
        (Some(m), Some(master)) => {
            let m: super::mfa::MfaRecord =
                serde_json::from_value(m).map_err(|e| format!("mfa: {e}"))?;
            (
                super::mfa::import_mfa(master, &pool.id, &sub, m, now)?,
                false,
            )
        }
        (Some(_), None) => (Default::default(), true),
        (None, _) => (Default::default(), false),
    };
    let created_at = record.created_at.map_or(now, |t| t.0);
    let mut user = User {
        pool_id: pool.id.clone(),
        sub,
        username,
        attributes,
        status,
        enabled: record.enabled,
        password_hash: record.password_hash,
        temporary_password_expires_at: record.temporary_password_expires_at.map(|t| t.0),
        identities: record.identities,
        lookup: Default::default(),
        created_at,
        updated_at: record.updated_at.map_or(created_at, |t| t.0),
        version: 0,
        mfa,
        // An imported hash gives no SRP verifier: the first password sign-in makes one.
        srp: None,
        pending_attributes: Default::default(),
    };
    user.lookup = lookup_for(pool, &user);
    Ok((user, groups, mfa_ignored))
}

/// In a pool where the email (or phone number) is the username, Cognate's username is the
/// sub and the address is an attribute (Cognito's model). A record whose username is the
/// address itself is turned into that form.
fn username_for(
    pool: &UserPool,
    username: &str,
    sub: &str,
    attributes: &mut BTreeMap<String, String>,
) -> Result<String, String> {
    if pool.username_attributes.is_empty() || username == sub {
        if !pool.username_attributes.is_empty()
            && !pool
                .username_attributes
                .iter()
                .any(|a| attributes.contains_key(a.attribute_name()))
        {
            return Err(format!(
                "attributes: this pool signs users in by {}, and the record has none",
                sign_in_names(pool)
            ));
        }
        return Ok(username.to_string());
    }
    let attr =
        if username.contains('@') && pool.username_attributes.contains(&AliasAttribute::Email) {
            "email"
        } else if !username.contains('@')
            && pool
                .username_attributes
                .contains(&AliasAttribute::PhoneNumber)
        {
            "phone_number"
        } else {
            return Err(format!(
                "username: this pool signs users in by {}; the username must be one, or the sub",
                sign_in_names(pool)
            ));
        };
    match attributes.get(attr) {
        Some(existing) if existing != username => {
            return Err(format!(
                "username {username:?} and attribute {attr} {existing:?} differ"
            ))
        }
        Some(_) => {}
        None => {
            crate::core::attributes::validate_attribute(pool, attr, username)
                .map_err(|e| format!("username: {e}"))?;
            attributes.insert(attr.to_string(), username.to_string());
        }
    }
    Ok(sub.to_string())
}

fn sign_in_names(pool: &UserPool) -> String {
    pool.username_attributes
        .iter()
        .map(|a| a.attribute_name())
        .collect::<Vec<_>>()
        .join(" or ")
}
