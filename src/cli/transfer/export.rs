//! `cognate users export`: every user of a pool, a page at a time, with its groups.

use super::*;

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
            let mut record = UserRecord::from_user(user, groups);
            if args.include_mfa {
                if let Some(m) = mfa::export_mfa(&node.master, user).map_err(CliError)? {
                    record.mfa = Some(serde_json::to_value(m)?);
                }
            }
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
