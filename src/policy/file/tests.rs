use super::*;

fn parse(text: &str) -> Result<Policy> {
    Policy::parse(Path::new("p.toml"), text)
}

const MINIMAL: &str = r#"
[repository]
path = "/r"
password-env = "PW"

[[source]]
name = "app"
engine = "sqlite"
databases = ["/srv/app.db"]

[schedule]
time-zone = "UTC"
full = { frequency = "daily", at = "02:00" }

[retention]
daily = 7
"#;

#[test]
fn every_example_policy_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let p =
                Policy::load(&path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
            assert!(p.warnings.is_empty(), "{:?}", p.warnings);
            seen += 1;
        }
    }
    assert!(seen >= 1);
}

#[test]
fn minimal_policy_has_defaults() {
    let p = parse(MINIMAL).unwrap();
    assert_eq!(p.spec.options.max_parallel, 1);
    assert_eq!(p.spec.sources[0].databases, vec!["/srv/app.db".to_string()]);
}

#[test]
fn errors_point_at_file_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[retention]\ndaily = 7",
            "[retention]\ndaily = 7\nhourly = 3",
            "p.toml:17:1: unknown field `hourly`",
        ),
        (
            "engine = \"sqlite\"",
            "engine = \"oracle\"",
            "p.toml:8:1: unknown engine `oracle` in source `app`; allowed: sqlite, postgres, mariadb",
        ),
        ("daily = 7", "daily = 0", "p.toml:15:1: "),
        (
            "frequency = \"daily\"",
            "frequency = \"hourly\"",
            "p.toml:13:",
        ),
        (
            "password-env = \"PW\"",
            "password-env = \"PW\"\nkey-file = \"/k\"",
            "p.toml:2:1: [repository] names more than one",
        ),
        (
            "databases = [\"/srv/app.db\"]",
            "",
            "p.toml:6:1: source `app` protects nothing",
        ),
        (
            "at = \"02:00\" }",
            "at = \"02:00\" }\nlog-every-minutes = 15",
            "p.toml:14:1: log-every-minutes needs every source to have log backups",
        ),
        (
            "engine = \"sqlite\"",
            "engine = \"postgres\"",
            "p.toml:6:1: postgres source `app` needs `url",
        ),
        (
            "engine = \"sqlite\"",
            "engine = \"sqlite\"\nurl = \"postgres://h/\"",
            "p.toml:9:1: `url` is for server sources",
        ),
        (
            "engine = \"sqlite\"",
            "engine = \"postgres\"\nurl = \"postgres://h:notaport/\"",
            "p.toml:9:1: bad PostgreSQL URL",
        ),
        (
            "engine = \"sqlite\"\ndatabases = [\"/srv/app.db\"]",
            "engine = \"postgres\"\nurl = \"postgres://h/\"\ndirectory = \"/srv\"\nauto-protect = true",
            "p.toml:10:1: `directory` is for sqlite sources",
        ),
        (
            "engine = \"sqlite\"\ndatabases = [\"/srv/app.db\"]",
            "engine = \"postgres\"\nurl = \"postgres://h/\"",
            "p.toml:6:1: source `app` protects nothing",
        ),
        (
            "engine = \"sqlite\"",
            "engine = \"postgres\"\nurl = \"postgres://h/\"\njobs = 0",
            "p.toml:10:1: jobs must be between 1 and 64",
        ),
    ];
    for (from, to, want) in cases {
        let text = MINIMAL.replacen(from, to, 1);
        let err = parse(&text).unwrap_err();
        assert!(
            err.message.starts_with(want),
            "{from} -> {to}: got {}",
            err.message
        );
        assert_eq!(err.kind, crate::error::Kind::Usage);
    }
}

#[test]
fn a_postgres_source_warns_about_a_password_in_its_url_without_showing_it() {
    let text = MINIMAL.replacen(
        "engine = \"sqlite\"\ndatabases = [\"/srv/app.db\"]",
        "engine = \"postgres\"\nurl = \"postgres://u:Sekrit99@db1/\"\nauto-protect = true\nexclude = [\"postgres\"]",
        1,
    );
    let p = parse(&text).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].starts_with("p.toml:9:1: source `app` has a password in its url"));
    assert!(!p.warnings[0].contains("Sekrit99"));
    // A postgres source cannot be copied as plain files.
    let copy = text.replacen(
        "[retention]",
        "[options]\ncopy = { path = \"/c\", kinds = [\"full\"] }\n\n[retention]",
        1,
    );
    let err = parse(&copy).unwrap_err();
    assert!(
        err.message.contains("only sqlite sources have"),
        "{}",
        err.message
    );
}

#[test]
fn inline_password_is_accepted_with_a_warning() {
    let text = MINIMAL.replace("password-env = \"PW\"", "password = \"hunter2\"");
    let p = parse(&text).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].starts_with("p.toml:4:1: a password is written inline"),
        "{}",
        p.warnings[0]
    );
    assert!(!p.warnings[0].contains("hunter2"));
}

#[test]
fn azure_repositories_take_a_tier() {
    let text = MINIMAL.replace(
        "path = \"/r\"",
        "path = \"azure://acct/backups/prod\"\ntier = \"cool\"",
    );
    let p = parse(&text).unwrap();
    assert_eq!(p.spec.repository.tier.as_deref(), Some("cool"));
    let e = parse(&text.replace("\"cool\"", "\"frozen\"")).unwrap_err();
    assert!(
        e.message
            .contains("tier must be hot, cool, cold or archive"),
        "{}",
        e.message
    );
    let local = MINIMAL.replace("path = \"/r\"", "path = \"/r\"\ntier = \"cool\"");
    let e = parse(&local).unwrap_err();
    assert!(e.message.contains("only to an azure://"), "{}", e.message);
}
