//! Any text as `dbx.toml`: parsed, `${VAR}`-substituted, with the environment applied and
//! validated, as `dbx` reads its configuration.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A fixed little environment, so that substitution and overrides have something to do.
    let env = |name: &str| match name {
        "DATABASE_URL" => Some("postgres://u:p@db:5432/app".to_owned()),
        "DB_POOL_MAX" => Some("8".to_owned()),
        "HOME" => Some("/home/dbx".to_owned()),
        _ => None,
    };
    if let Ok(mut config) = dbx_service::config::parse(text, &env) {
        let _ = dbx_service::config::apply_env(&mut config, &env);
        let _ = config.validate();
    }
});
