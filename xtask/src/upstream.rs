//! `cargo xtask upstream ...`: the pin and the patch series.

use std::path::Path;

use vmi_upstream::bump::{self, Bump, Outcome};
use vmi_upstream::{fetch, series, Pin};

/// Upstream commands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show the pin, each patch with its changed-line count, and whether the
    /// series applies to the pinned commit.
    Status,
    /// Rebase the patch series onto a new upstream revision (3-way merge), drop
    /// patches upstream already has, rewrite patches/ and the pin.
    ///
    /// Example: cargo xtask upstream bump master
    Bump {
        /// Upstream commit SHA, branch or tag.
        rev: String,
        /// Report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Continue a bump after resolving its conflict in the work tree.
    Continue,
    /// Abandon a bump (or edit) in progress; the workspace is left as it was.
    Abort,
    /// Check the series out as commits on the pin, to change patches by editing code.
    Edit,
    /// Regenerate patches/ from the edit work tree's commits.
    Refresh,
}

type Res = Result<(), Box<dyn std::error::Error>>;

/// Runs an upstream command.
pub fn run(cmd: Command, root: &Path) -> Res {
    let cache = fetch::cache_root()?.join("upstream").join("libvmi.git");
    let state_dir = bump::default_state_dir(root);
    let bumper = |dry_run| Bump {
        workspace_root: root.to_path_buf(),
        cache: cache.clone(),
        state_dir: state_dir.clone(),
        dry_run,
    };
    match cmd {
        Command::Status => status(root),
        Command::Bump { rev, dry_run } => report(bumper(dry_run).start(&rev)?),
        Command::Continue => report(bumper(false).resume()?),
        Command::Abort => {
            bumper(false).abort()?;
            println!(
                "aborted: {} removed; vendor/ and patches/ untouched",
                state_dir.display()
            );
            Ok(())
        }
        Command::Edit => {
            let tree = bump::edit(root, &cache, &state_dir)?;
            println!(
                "the series is checked out as commits on the pin (branch `series`) in\n  {}",
                tree.display()
            );
            println!("edit code there and commit (git commit --amend to change the last patch; git rebase -i upstream-base for others),");
            println!("then: cargo xtask upstream refresh   (or abort to discard)");
            Ok(())
        }
        Command::Refresh => {
            let names = bump::refresh(root, &state_dir)?;
            println!(
                "patches/ regenerated: {}",
                if names.is_empty() {
                    "(empty series)".to_string()
                } else {
                    names.join(", ")
                }
            );
            println!(
                "the work tree {} stays for more edits; when done: cargo xtask upstream abort (removes it; patches/ stay as written)",
                state_dir.display()
            );
            Ok(())
        }
    }
}

fn report(outcome: Outcome) -> Res {
    match outcome {
        Outcome::Done(r) => {
            println!("upstream {} -> {}", &r.old[..12], &r.new[..12]);
            for p in &r.applied {
                println!("  carried  {p}");
            }
            for p in &r.dropped {
                println!("  dropped  {p} (upstream already contains it)");
            }
            if r.applied.is_empty() && r.dropped.is_empty() {
                println!("  (empty series)");
            }
            println!(
                "\npublic header changes the bindings and the safe API must follow:\n{}",
                r.header_changes
            );
            if r.written {
                println!("written: vendor/libvmi.toml, patches/, crate versions (+libvmi.{}). Review with git diff, then build and test.", &r.new[..7]);
            } else {
                println!("dry run: nothing written");
            }
            Ok(())
        }
        Outcome::Conflict(c) => {
            println!("CONFLICT in patch {}:", c.patch);
            for (file, regions) in &c.files {
                let where_: Vec<String> = regions
                    .iter()
                    .map(|(a, b)| format!("lines {a}-{b}"))
                    .collect();
                println!(
                    "  {file}: {}",
                    if where_.is_empty() {
                        "conflict".into()
                    } else {
                        where_.join(", ")
                    }
                );
            }
            println!("\nnothing in vendor/ or patches/ changed. The work tree with conflict markers is\n  {}", c.work_tree.display());
            println!("resolve the markers there, then:  cargo xtask upstream continue");
            println!("or give up:                      cargo xtask upstream abort");
            Err("bump stopped at a conflict".into())
        }
    }
}

fn status(root: &Path) -> Res {
    let pin = Pin::load(root)?;
    println!("upstream  {}", pin.url);
    println!("commit    {}", pin.commit);
    let patches = series::load_series(&root.join("patches"))?;
    if patches.is_empty() {
        println!("patches   none (the pinned commit is built unmodified)");
    }
    let mut total = 0;
    for p in &patches {
        let n = p.changed_lines();
        total += n;
        let files: Vec<_> = p.files.iter().map(|f| f.path()).collect();
        println!(
            "patch     {:<48} {:>4} changed line(s)  {}",
            p.name(),
            n,
            files.join(", ")
        );
    }
    if !patches.is_empty() {
        println!(
            "total     {} patch(es), {total} changed line(s)",
            patches.len()
        );
    }
    let tmp = tempfile::tempdir()?;
    match vmi_upstream::prepare(root, &tmp.path().join("src"), None) {
        Ok(_) => println!("applies   yes, exactly, to {}", pin.short()),
        Err(e) => {
            println!("applies   NO");
            return Err(e.into());
        }
    }
    Ok(())
}
