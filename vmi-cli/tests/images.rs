//! End-to-end tests of the `vmi` binary on the real guest memory images of
//! `ci/guest-images/build`, compared with each image's ground truth.
//!
//! The image set is `$TINYVMI_IMAGES`, else the newest complete set under
//! `${TINYVMI_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tinyvmi}/images`. Without one these tests
//! fail (never pass silently), saying how to build it.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Every run must end within this (failures included).
const TIMEOUT: Duration = Duration::from_secs(120);

// The image set is found exactly as the safe API's tests find it.
#[path = "../../libvmi-rs/tests/common/mod.rs"]
mod common;
use common::image_set;

struct Variant {
    name: &'static str,
    dir: PathBuf,
    image: PathBuf,
    truth: Value,
}

impl Variant {
    fn load(name: &'static str) -> Variant {
        let dir = image_set().join(name);
        let text = std::fs::read_to_string(dir.join("ground-truth.json")).unwrap();
        let truth: Value = serde_json::from_str(&text).unwrap();
        let image = dir.join(truth["image"].as_str().unwrap());
        Variant {
            name,
            dir,
            image,
            truth,
        }
    }

    fn all() -> [Variant; 2] {
        [Variant::load("nokaslr"), Variant::load("kaslr")]
    }

    /// `--image IMAGE --config <conf>` (`libvmi.conf`: LibVMI searches the kernel page
    /// table and KASLR offset; `libvmi-kpgd.conf`: it is given them).
    fn target(&self, conf: &str) -> Vec<String> {
        vec![
            "--image".into(),
            self.image.display().to_string(),
            "--config".into(),
            self.dir.join(conf).display().to_string(),
        ]
    }

    fn hex(&self, v: &Value) -> u64 {
        parse_hex(v.as_str().unwrap())
    }
}

fn parse_hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("not hex: {s:?}"))
}

/// Run `vmi` with `args`, killing it (and failing) after [`TIMEOUT`].
fn vmi<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmi"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run vmi");
    // Drain the pipes on threads so that a large output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).map(|_| v)
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).map(|_| v)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let args: Vec<_> = args.iter().map(|a| a.as_ref().to_owned()).collect();
            panic!("vmi {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap().unwrap(),
        stderr: t_err.join().unwrap().unwrap(),
    }
}

fn args(v: &Variant, conf: &str, rest: &[&str]) -> Vec<String> {
    let mut a = v.target(conf);
    a.extend(rest.iter().map(|s| (*s).to_owned()));
    a
}

/// Success, with nothing on standard error; the output.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.contains(&0), "a NUL byte on stdout");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Failure with status `code` and exactly one line `error: ...` on stderr, which is
/// returned.
fn fails(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    err
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("not JSON")
}

#[test]
fn ps_json_equals_ground_truth() {
    for v in Variant::all() {
        let ps = json(&vmi(&args(&v, "libvmi.conf", &["ps", "--json"])));
        let ours: Vec<(i64, String)> = ps
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["pid"].as_i64().unwrap(),
                    p["name"].as_str().unwrap().into(),
                )
            })
            .collect();
        let mut truth = vec![(0, "swapper/0".to_owned())];
        truth.extend(v.truth["processes"].as_array().unwrap().iter().map(|p| {
            (
                p["pid"].as_i64().unwrap(),
                p["name"].as_str().unwrap().to_owned(),
            )
        }));
        assert_eq!(ours, truth, "{}", v.name);
        // kernel threads have no page table, user processes one
        for (p, t) in ps.as_array().unwrap()[1..]
            .iter()
            .zip(v.truth["processes"].as_array().unwrap())
        {
            assert_eq!(p["dtb"].is_null(), t["kernel_thread"].as_bool().unwrap());
        }
        // the table has the same rows
        let table = ok(&vmi(&args(&v, "libvmi-kpgd.conf", &["ps"])));
        assert_eq!(table.lines().count(), truth.len() + 1);
        assert!(table.starts_with("PID"), "{table}");
        assert!(table.lines().nth(1).unwrap().contains("swapper/0"));
    }
}

#[test]
fn modules_json_equals_ground_truth() {
    for v in Variant::all() {
        let m = json(&vmi(&args(&v, "libvmi-kpgd.conf", &["modules", "--json"])));
        let ours: Vec<&str> = m
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        let truth: Vec<&str> = v.truth["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(ours, truth, "{}", v.name);
        let table = ok(&vmi(&args(&v, "libvmi-kpgd.conf", &["modules"])));
        assert_eq!(table.lines().count(), truth.len() + 1);
    }
}

#[test]
fn sym_and_banner() {
    for v in Variant::all() {
        for sym in ["linux_banner", "init_task", "_text"] {
            let out = ok(&vmi(&args(&v, "libvmi-kpgd.conf", &["sym", sym])));
            assert_eq!(
                parse_hex(&out),
                v.hex(&v.truth["symbols"][sym]),
                "{} {sym}",
                v.name
            );
        }
        // And back: the name of System.map's first row at the symbol's link-time address.
        let map = std::fs::read_to_string(v.dir.join("System.map")).unwrap();
        let kaslr = v.hex(&v.truth["kaslr_offset"]);
        for sym in ["linux_banner", "init_task", "_text"] {
            let at = v.hex(&v.truth["symbols"][sym]);
            let link = format!("{:016x}", at.wrapping_sub(kaslr));
            let first = map
                .lines()
                .find_map(|r| r.strip_prefix(link.as_str()))
                .and_then(|rest| rest.split_whitespace().nth(1))
                .unwrap();
            let out = ok(&vmi(&args(
                &v,
                "libvmi-kpgd.conf",
                &["sym", &format!("{at:#x}")],
            )));
            assert_eq!(out, format!("{first}\n"), "{} {sym}", v.name);
        }
        let banner = v.truth["banner"].as_str().unwrap();
        let at = v.truth["symbols"]["linux_banner"].as_str().unwrap();
        let len = banner.len().to_string();
        let raw = vmi(&args(
            &v,
            "libvmi.conf",
            &["read", at, &len, "--format", "raw"],
        ));
        assert_eq!(ok(&raw), banner, "{}", v.name);
        let text = vmi(&args(
            &v,
            "libvmi-kpgd.conf",
            &["read", at, "1024", "--format", "string"],
        ));
        // linux_banner ends in a newline (the ground truth has it stripped): no second one
        assert_eq!(ok(&text), format!("{banner}\n"), "{}", v.name);
        // the hex dump shows the address and the text
        let hex = ok(&vmi(&args(&v, "libvmi-kpgd.conf", &["read", at, "16"])));
        assert!(hex.starts_with(&format!("{:016x}", parse_hex(at))), "{hex}");
        assert!(hex.contains("|Linux version 6.|"), "{hex}");
    }
}

#[test]
fn markers_translate_and_read_through_their_process() {
    for v in Variant::all() {
        for m in v.truth["markers"].as_array().unwrap() {
            let pid = m["pid"].as_i64().unwrap().to_string();
            let va = m["vaddr"].as_str().unwrap();
            let text = m["text"].as_str().unwrap();
            let kind = m["kind"].as_str().unwrap();
            let pa = ok(&vmi(&args(
                &v,
                "libvmi-kpgd.conf",
                &["translate", va, "--pid", &pid],
            )));
            assert_eq!(parse_hex(&pa), v.hex(&m["paddr"]), "{} {kind}", v.name);
            let len = text.len().to_string();
            let read = vmi(&args(
                &v,
                "libvmi-kpgd.conf",
                &["read", va, &len, "--pid", &pid, "--format", "raw"],
            ));
            assert_eq!(ok(&read), text, "{} {kind}", v.name);
            // the same bytes physically, without any OS configuration
            let phys = vmi(&[
                "--image",
                v.image.to_str().unwrap(),
                "read",
                m["paddr"].as_str().unwrap(),
                &len,
                "--physical",
                "--format",
                "raw",
            ]);
            assert_eq!(ok(&phys), text, "{} {kind}", v.name);
        }
    }
}

#[test]
fn info_matches_ground_truth() {
    for v in Variant::all() {
        // libvmi.conf has no KASLR offset: LibVMI finds it
        let info = json(&vmi(&args(&v, "libvmi.conf", &["info", "--json"])));
        assert_eq!(info["os"], "Linux");
        assert_eq!(
            parse_hex(info["kaslr_offset"].as_str().unwrap()),
            v.hex(&v.truth["kaslr_offset"]),
            "{}",
            v.name
        );
        assert_eq!(info["memory_size"], v.truth["memory_size"]);
        assert_eq!(info["version"], v.truth["banner"]);
        assert_eq!(info["page_mode"], "IA-32e (4-level)");
        let text = ok(&vmi(&args(&v, "libvmi.conf", &["info"])));
        let kaslr = v.truth["kaslr_offset"].as_str().unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with("kaslr offset:") && l.ends_with(kaslr)),
            "{text}"
        );
    }
}

#[test]
fn config_file_with_one_entry_serves_a_renamed_image() {
    let v = Variant::load("kaslr");
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("renamed.raw");
    std::os::unix::fs::symlink(&v.image, &renamed).unwrap();
    let out = vmi(&[
        "--image",
        renamed.to_str().unwrap(),
        "--config",
        v.dir.join("libvmi-kpgd.conf").to_str().unwrap(),
        "sym",
        "linux_banner",
    ]);
    // no stray bytes from LibVMI's config parser on stdout
    assert_eq!(
        parse_hex(&ok(&out)),
        v.hex(&v.truth["symbols"]["linux_banner"])
    );
    // with two entries and none named like the image: which one is unclear
    let conf = tmp.path().join("two.conf");
    let text = std::fs::read_to_string(v.dir.join("libvmi.conf")).unwrap();
    std::fs::write(
        &conf,
        format!("{text}\nother.raw {{ ostype = \"Linux\"; }}\n"),
    )
    .unwrap();
    let out = vmi(&[
        "--image",
        renamed.to_str().unwrap(),
        "--config",
        conf.to_str().unwrap(),
        "info",
    ]);
    let err = fails(&out, 1);
    assert!(err.contains("no entry named renamed.raw"), "{err}");
}

#[test]
fn dump_is_byte_identical_and_atomic() {
    let v = Variant::load("nokaslr");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("copy.raw");
    ok(&vmi(&[
        "--image",
        v.image.to_str().unwrap(),
        "dump",
        out.to_str().unwrap(),
    ]));
    assert!(same_file(&out, &v.image), "the dump differs from the image");
    std::fs::remove_file(&out).unwrap();

    // into a directory that does not exist: exit 1, nothing left
    let missing = tmp.path().join("no/such/dir/copy.raw");
    let err = fails(
        &vmi(&[
            "--image",
            v.image.to_str().unwrap(),
            "dump",
            missing.to_str().unwrap(),
        ]),
        1,
    );
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(!tmp.path().join("no").exists());

    // an existing file survives a failed dump
    std::fs::write(&out, b"keep me").unwrap();
    fails(
        &vmi(&[
            "--image",
            tmp.path().join("missing.raw").to_str().unwrap(),
            "dump",
            out.to_str().unwrap(),
        ]),
        1,
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");

    // interrupted half-way: no output, no temporary file
    let child = Command::new(env!("CARGO_BIN_EXE_vmi"))
        .args(["--image", v.image.to_str().unwrap(), "dump"])
        .arg(tmp.path().join("interrupted.raw"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let done = child.wait_with_output().unwrap();
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    if done.status.success() {
        // finished before the signal (a fast machine): then it must be complete
        assert!(same_file(&tmp.path().join("interrupted.raw"), &v.image));
    } else {
        assert_eq!(left, vec![std::ffi::OsString::from("copy.raw")], "{left:?}");
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    if fa.metadata().unwrap().len() != fb.metadata().unwrap().len() {
        return false;
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let v = Variant::load("nokaslr");
    let image = v.image.to_str().unwrap();
    // a missing image
    let err = fails(&vmi(&["--image", "/no/such.raw", "ps"]), 1);
    assert_eq!(
        err.trim_end(),
        "error: cannot open image /no/such.raw: No such file or directory"
    );
    // no configuration at all (run where no ./libvmi.conf is)
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vmi"))
        .args(["--image", image, "ps"])
        .current_dir(tmp.path())
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    if !Path::new("/etc/libvmi.conf").exists() {
        let err = fails(&out, 1);
        assert!(
            err.contains("pass --config FILE (libvmi.conf format)"),
            "{err}"
        );
    }
    // bad numbers, lengths, pids; unknown commands; conflicting options: usage errors
    for bad in [
        vec!["--image", image, "read", "0xzz", "16"],
        vec!["--image", image, "read", "0x1000", "ten"],
        vec![
            "--image",
            image,
            "read",
            "0x1000",
            "0x40000001",
            "--physical",
        ],
        vec!["--image", image, "read", "0x1000", "0"],
        vec!["--image", image, "translate", "0x1000", "--pid", "-3"],
        vec!["--image", image, "frobnicate"],
        vec!["--image", image, "--domain", "x", "info"],
        vec![
            "--image",
            image,
            "read",
            "0",
            "1",
            "--pid",
            "1",
            "--physical",
        ],
        vec!["ps"],
    ] {
        let out = vmi(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{bad:?}"
        );
    }
    // events on an image: a clean usage error
    let err = fails(&vmi(&["--image", image, "watch"]), 2);
    assert!(err.contains("needs a live Xen domain"), "{err}");
    // a kernel thread has no user address space
    let conf = v.dir.join("libvmi-kpgd.conf");
    let conf = conf.to_str().unwrap();
    let err = fails(
        &vmi(&[
            "--image",
            image,
            "--config",
            conf,
            "translate",
            "0x400000",
            "--pid",
            "2",
        ]),
        1,
    );
    assert!(err.contains("kernel thread"), "{err}");
    let err = fails(
        &vmi(&["--image", image, "--config", conf, "sym", "no_such_symbol"]),
        1,
    );
    assert!(err.contains("no_such_symbol"), "{err}");
    let err = fails(&vmi(&["--image", image, "--config", conf, "sym", "0x1"]), 1);
    assert!(err.contains("no kernel symbol starts at 0x1"), "{err}");
    let err = fails(
        &vmi(&["--image", image, "--config", conf, "sym", "0xinit_task"]),
        2,
    );
    assert!(err.contains("\"0xinit_task\" is not a number"), "{err}");
    let err = fails(
        &vmi(&["--image", image, "--config", conf, "read", "0x1000", "16"]),
        1,
    );
    assert!(err.contains("0x1000"), "{err}");
}

#[test]
fn truncated_and_zero_images_fail_cleanly() {
    let v = Variant::load("nokaslr");
    let tmp = tempfile::tempdir().unwrap();
    // a copy cut at 64 MiB, and one of the same size but all zeros
    let truncated = tmp.path().join("truncated.raw");
    let mut src = std::fs::File::open(&v.image).unwrap().take(64 << 20);
    let mut dst = std::fs::File::create(&truncated).unwrap();
    std::io::copy(&mut src, &mut dst).unwrap();
    let zero = tmp.path().join("zero.raw");
    std::fs::File::create(&zero)
        .unwrap()
        .set_len(v.truth["memory_size"].as_u64().unwrap())
        .unwrap();
    for image in [&truncated, &zero] {
        for conf in ["libvmi.conf", "libvmi-kpgd.conf"] {
            let conf = v.dir.join(conf);
            for cmd in [
                &["ps"][..],
                &["info"],
                &["modules", "--json"],
                &["sym", "init_task"],
            ] {
                let mut a = vec![
                    "--image",
                    image.to_str().unwrap(),
                    "--config",
                    conf.to_str().unwrap(),
                ];
                a.extend_from_slice(cmd);
                let out = vmi(&a);
                if out.status.success() {
                    // only symbol lookups can work without a kernel in memory
                    assert_eq!(cmd[0], "sym", "{a:?}");
                } else {
                    fails(&out, 1);
                }
            }
        }
        // physical memory needs no kernel
        let out = vmi(&[
            "--image",
            image.to_str().unwrap(),
            "read",
            "0",
            "16",
            "--physical",
        ]);
        ok(&out);
    }
}

#[test]
fn help_completions_and_version() {
    for cmd in [
        "info",
        "ps",
        "modules",
        "sym",
        "translate",
        "read",
        "dump",
        "watch",
        "completions",
    ] {
        let help = ok(&vmi(&[cmd, "--help"]));
        assert!(help.contains("Examples:"), "{cmd}: {help}");
    }
    assert!(ok(&vmi(&["--help"])).contains("Exit status"));
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(&vmi(&["completions", shell]));
        assert!(script.contains("vmi"), "{shell}");
    }
    assert!(ok(&vmi(&["--version"])).starts_with("vmi "));
    // no colour when not on a terminal
    let out = vmi(&["--image", "/no/such.raw", "ps"]);
    assert!(!out.stderr.contains(&0x1b));
}
