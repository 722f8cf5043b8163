//! The README's configuration table says exactly what `aforro serve --help` says: every flag,
//! its environment variable and its default.

use std::collections::BTreeSet;

use clap::CommandFactory;

type Setting = (String, String, String);

/// `(flag, env, default)` of every global option and every `serve` option, as clap defines them.
fn settings_from_clap() -> BTreeSet<Setting> {
    let mut cli = aforro::cli::Cli::command();
    // Building fills in implied defaults (`false` for a flag) and copies the global options
    // into `serve` (the set removes the duplicates).
    cli.build();
    let serve = cli.find_subcommand("serve").expect("a serve subcommand").clone();
    cli.get_arguments()
        .chain(serve.get_arguments())
        .filter_map(|arg| {
            let flag = format!("--{}", arg.get_long()?);
            let env = arg.get_env().map_or("—".to_owned(), |env| env.to_string_lossy().into_owned());
            let defaults: Vec<String> =
                arg.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect();
            let default = if defaults.is_empty() { "—".to_owned() } else { defaults.join(",") };
            Some((flag, env, default))
        })
        .filter(|(flag, ..)| flag != "--help" && flag != "--version")
        .collect()
}

/// The rows of the README's configuration table that name a flag.
fn settings_from_readme() -> BTreeSet<Setting> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let section = readme.split("## Configuration").nth(1).expect("a Configuration section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<String> = line.split('|').skip(1).take(3).map(|cell| cell.trim().replace('`', "")).collect();
            let flag = cells[0].trim_start_matches("serve ").to_owned();
            (flag, cells[1].clone(), cells[2].clone())
        })
        .collect()
}

#[test]
fn the_readme_configuration_table_matches_the_command_line_definition() {
    let clap = settings_from_clap();
    let readme = settings_from_readme();

    let missing: Vec<_> = clap.difference(&readme).collect();
    let stale: Vec<_> = readme.difference(&clap).collect();
    assert!(missing.is_empty() && stale.is_empty(), "missing from README: {missing:?}\nstale in README: {stale:?}");
}
