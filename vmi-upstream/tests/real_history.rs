//! The real patch series carried across real upstream history: from the pin back
//! to upstream commit 8f9b010 (2024-11, five commits older, with `arch/amd64.c`, which
//! patch 0002 changes, rewritten in between by f02aeb7) and forward again. The round
//! trip must give back the committed patch files byte for byte — and those are what
//! every build of `libvmi-sys` applies and compiles. Further back, at upstream's last tag
//! v0.14.0 (119 commits older, before "Nested support" rewrote the page-table walk),
//! patch 0002 genuinely conflicts: the bump must stop there, naming patch, file and lines.
//!
//! Uses the real upstream cache (filled by the build; the first run fetches
//! through git's `insteadOf` mirror or from GitHub).

use std::path::{Path, PathBuf};

use vmi_upstream::bump::{Bump, Outcome};
use vmi_upstream::Pin;

/// 8f9b010 "update memory size properties as modified by daf350644dc in mmap logic (#1097)".
const OLDER: &str = "8f9b010b0261dbc11e2dda5e718b0e9507109232";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn done(o: Outcome) -> vmi_upstream::bump::Report {
    match o {
        Outcome::Done(r) => r,
        Outcome::Conflict(c) => panic!("conflict carrying the real series: {c:?}"),
    }
}

#[test]
fn real_series_round_trips_across_real_history() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let pin = Pin::load(&root).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    copy_dir(&root.join("vendor"), &ws.join("vendor"));
    copy_dir(&root.join("patches"), &ws.join("patches"));
    let cache = vmi_upstream::fetch::cache_root()
        .unwrap()
        .join("upstream")
        .join("libvmi.git");
    let bump = Bump {
        workspace_root: ws.clone(),
        cache: cache.clone(),
        state_dir: tmp.path().join("state"),
        dry_run: false,
    };
    let series_names = vmi_upstream::series::read_series(&root.join("patches")).unwrap();

    // Too far back: a real conflict, reported with the patch, the file and its lines, and
    // nothing written to the workspace.
    let far = Bump {
        state_dir: tmp.path().join("far-state"),
        ..bump.clone()
    };
    match far.start("v0.14.0").unwrap() {
        Outcome::Conflict(c) => {
            assert!(c.patch.starts_with("0002-"), "{c:?}");
            assert!(
                c.files
                    .iter()
                    .any(|(f, lines)| f == "libvmi/arch/amd64.c" && !lines.is_empty()),
                "{c:?}"
            );
        }
        Outcome::Done(r) => panic!("the series applied to v0.14.0: {r:?}"),
    }
    assert_eq!(
        Pin::load(&ws).unwrap(),
        pin,
        "a stopped bump changed the pin"
    );

    let back = done(bump.start(OLDER).unwrap());
    assert_eq!(back.applied.len(), series_names.len(), "{back:?}");
    assert_ne!(Pin::load(&ws).unwrap().commit, pin.commit);
    // The series applies exactly to the old upstream.
    let old =
        vmi_upstream::prepare_with(&ws, &tmp.path().join("old-src"), None, Some(&cache)).unwrap();
    assert!(old.root.join("libvmi/libvmi.h").exists());

    let forth = done(bump.start(&pin.commit).unwrap());
    assert_eq!(forth.applied, back.applied);
    assert_eq!(Pin::load(&ws).unwrap(), pin);
    for e in &series_names {
        let ours = std::fs::read_to_string(&e.path).unwrap();
        let round = std::fs::read_to_string(ws.join("patches").join(&e.name)).unwrap();
        assert_eq!(round, ours, "{} changed across the round trip", e.name);
    }
    // And the header report saw real API changes between 8f9b010 and the pin.
    assert!(
        forth.header_changes.contains("libvmi/libvmi.h"),
        "{}",
        forth.header_changes
    );
}
