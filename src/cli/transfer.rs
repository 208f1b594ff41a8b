//! `cognate users export` and `cognate users import`: a pool's users as JSON Lines, one
//! user per line:
//!
//! ```json
//! {"username":"ana","sub":"<uuid>","status":"CONFIRMED","enabled":true,
//!  "attributes":{"email":"ana@example.com","email_verified":"true"},
//!  "password_hash":"$argon2id$v=19$...","groups":["admins"],"identities":[],
//!  "created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}
//! ```
//!
//! Password hashes are kept as they are: Argon2id, and bcrypt, PBKDF2-SHA256 (PHC or
//! Django's `pbkdf2_sha256$...`) and scrypt from other systems, which
//! `Directory::authenticate` verifies as they are and upgrades to Argon2id at the next
//! successful sign-in — the exit Cognito never offers.
//!
//! Import streams the file: each line is validated on its own (a bad line is reported with
//! its number and skipped), and valid users are written in batches of one transaction each,
//! so a million users take minutes. A user that collides with an existing one is skipped
//! and reported; one whose sub and username are already there counts as imported before,
//! so running an interrupted import again completes it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::admin::{iso, require_pool};
use super::{CliError, CliResult};
use crate::core::attributes::validate_attributes;
use crate::core::directory::{lookup_for, validate_username, GroupSpec};
use crate::core::model::{
    AliasAttribute, FederatedIdentity, Origin, PageRequest, User, UserPool, UserStatus,
};
use crate::core::password::inspect;
use crate::core::secrets::SecretString;
use crate::core::storage::UserRef;
use crate::core::{now, UnixTime};
use crate::server::Node;

/// Users per page when exporting (the store's largest page).
const EXPORT_PAGE: u32 = 1000;
/// Line-by-line messages shown per kind before the rest are only counted.
const MAX_REPORTED: u64 = 100;
/// Cognito's cap on federated identities per user.
const MAX_IDENTITIES: usize = 5;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub pool: String,
    /// The file to write (created owner-only, as it holds password hashes), or `-` for
    /// standard output.
    #[arg(long, short = 'o', default_value = "-")]
    pub output: String,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long)]
    pub pool: String,
    /// The JSON Lines file (one user per line), or `-` for standard input.
    pub file: String,
    /// Users written per transaction (1 to 10000).
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// One line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub username: String,
    pub sub: String,
    pub status: String,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Values are strings; `true` and numbers are accepted and kept as their text.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    /// A `SecretString`, so a `Debug` of the record does not print it (the file itself
    /// holds it: the export is created owner-only).
    #[serde(default)]
    pub password_hash: Option<SecretString>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub identities: Vec<FederatedIdentity>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// When an admin-set temporary password stops working (FORCE_CHANGE_PASSWORD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_password_expires_at: Option<Timestamp>,
}

fn default_true() -> bool {
    true
}

/// An attribute value: a JSON string, or a boolean or number kept as its text (Cognito
/// stores every attribute as a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue(pub String);

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AttributeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, boolean or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A point in time: written as RFC 3339 (UTC), read as RFC 3339 or seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub UnixTime);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&iso(self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an RFC 3339 date-time or seconds since the epoch")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("the time is out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                chrono::DateTime::parse_from_rfc3339(v)
                    .map(|t| Timestamp(t.timestamp()))
                    .map_err(|_| E::custom(format!("{v:?} is not an RFC 3339 date-time")))
            }
        }
        d.deserialize_any(V)
    }
}

impl UserRecord {
    pub fn from_user(user: &User, groups: Vec<String>) -> Self {
        UserRecord {
            username: user.username.clone(),
            sub: user.sub.clone(),
            status: user.status.as_str().to_string(),
            enabled: user.enabled,
            attributes: user
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), AttributeValue(v.clone())))
                .collect(),
            password_hash: user.password_hash.clone(),
            groups,
            identities: user.identities.clone(),
            created_at: Some(Timestamp(user.created_at)),
            updated_at: Some(Timestamp(user.updated_at)),
            temporary_password_expires_at: user.temporary_password_expires_at.map(Timestamp),
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or with `--quiet`.
fn progress_bar(len: Option<u64>, quiet: bool, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
    }
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::new_spinner(),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

// ------------------------------------------------------------------------------------------
// Export
// ------------------------------------------------------------------------------------------

pub async fn export(node: &Node, args: ExportArgs) -> CliResult {
    let pool = require_pool(node, &args.pool).await?;
    let total = node.store.count_users(&pool.id).await?;
    let target = if args.output == "-" {
        "standard output".to_string()
    } else {
        args.output.clone()
    };
    let write_err = |e: std::io::Error| CliError(format!("--output: writing {target}: {e}"));
    let mut out: Box<dyn Write> = if args.output == "-" {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::with_capacity(
            1 << 20,
            create_private(Path::new(&args.output)).map_err(write_err)?,
        ))
    };
    let bar = progress_bar(
        Some(total),
        args.quiet,
        "{spinner} exporting [{elapsed_precise}] [{wide_bar}] {pos}/{len} users ({eta})",
    );
    let mut memberships = Memberships::load(node, &pool.id).await?;
    let mut page = PageRequest {
        limit: EXPORT_PAGE,
        after: None,
    };
    let mut count: u64 = 0;
    loop {
        let listed = node.store.list_users(&pool.id, &page).await?;
        let groups = memberships.for_page(node, &pool.id, &listed.items).await?;
        for (user, groups) in listed.items.iter().zip(groups) {
            let record = UserRecord::from_user(user, groups);
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n").map_err(write_err)?;
            count += 1;
        }
        bar.set_position(count);
        match listed.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    out.flush().map_err(write_err)?;
    bar.finish_and_clear();
    eprintln!("exported {count} user(s) of pool {} to {target}", pool.id);
    Ok(())
}

/// The group memberships of the users being exported, found by walking every group's
/// member list beside the user list. Both come from the store ordered by sub (byte order
/// in both engines), so one pass over each list serves all users: per-user
/// `groups_of_user` reads cost a query each (and on SQLite without statistics, a scan of
/// the pool's memberships each), which a million users cannot afford.
struct Memberships {
    cursors: Vec<MemberCursor>,
    /// Member subs fetched per group page: fewer when there are many groups, so the
    /// buffered pages stay small.
    limit: u32,
}

/// A group's members not yet matched, one page buffered.
struct MemberCursor {
    group: String,
    buffered: VecDeque<String>,
    after: Option<String>,
    done: bool,
}

impl Memberships {
    async fn load(node: &Node, pool_id: &str) -> Result<Memberships, CliError> {
        let mut groups = node.store.list_groups(pool_id).await?;
        // The order `groups_of_user` gives: precedence (lowest first, none last), then name.
        groups.sort_by(|a, b| {
            (a.precedence.is_none(), a.precedence, &a.name).cmp(&(
                b.precedence.is_none(),
                b.precedence,
                &b.name,
            ))
        });
        let limit = u32::try_from(200_000 / groups.len().max(1))
            .unwrap_or(1000)
            .clamp(10, 1000);
        let cursors = groups
            .into_iter()
            .map(|g| MemberCursor {
                group: g.name,
                buffered: VecDeque::new(),
                after: None,
                done: false,
            })
            .collect();
        Ok(Memberships { cursors, limit })
    }

    /// The group names of each user of a page (sorted by sub, as `list_users` returns it).
    async fn for_page(
        &mut self,
        node: &Node,
        pool_id: &str,
        users: &[User],
    ) -> Result<Vec<Vec<String>>, CliError> {
        let mut out = vec![Vec::new(); users.len()];
        let Some(last) = users.last().map(|u| u.sub.as_str()) else {
            return Ok(out);
        };
        let index: HashMap<&str, usize> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.sub.as_str(), i))
            .collect();
        for cursor in &mut self.cursors {
            loop {
                if cursor.buffered.is_empty() {
                    if cursor.done {
                        break;
                    }
                    let request = PageRequest {
                        limit: self.limit,
                        after: cursor.after.take(),
                    };
                    let page = node
                        .store
                        .members_of_group(pool_id, &cursor.group, &request)
                        .await?;
                    cursor.buffered = page.items.into();
                    cursor.done = page.next.is_none();
                    cursor.after = page.next;
                    continue;
                }
                match cursor.buffered.front() {
                    Some(sub) if sub.as_str() <= last => {
                        if let Some(&i) = index.get(sub.as_str()) {
                            out[i].push(cursor.group.clone());
                        }
                        cursor.buffered.pop_front();
                    }
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

/// Creates (or truncates) a file readable by its owner only: it holds password hashes.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

// ------------------------------------------------------------------------------------------
// Import
// ------------------------------------------------------------------------------------------

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
                    parse_record(&pool, text, now).map(Some)
                }
            });
        match parsed {
            Ok(None) => {}
            Ok(Some((user, groups))) => {
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

/// Validates one line and builds the user to store (with its lookup keys) and its groups.
fn parse_record(pool: &UserPool, text: &str, now: UnixTime) -> Result<(User, Vec<String>), String> {
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
    };
    user.lookup = lookup_for(pool, &user);
    Ok((user, groups))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_keeps_its_hash_in_the_file_but_not_in_debug() {
        let line = r#"{"username":"carol","sub":"s-1","status":"CONFIRMED","password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaC1kaWdlc3QtdmFsdWU"}"#;
        let record: UserRecord = serde_json::from_str(line).unwrap();
        let text = format!("{record:?}");
        assert!(!text.contains("aGFzaC1kaWdlc3QtdmFsdWU"), "{text}");
        assert!(text.contains("carol"), "{text}");
        let written = serde_json::to_string(&record).unwrap();
        assert!(
            written.contains(r#""password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaC1kaWdlc3QtdmFsdWU""#),
            "{written}"
        );
    }
}
