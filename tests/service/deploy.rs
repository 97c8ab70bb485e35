//! The generated deployment files are current, and the chart's values are a valid config.

use std::path::PathBuf;

use dbx_service::deploy;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The files `cargo xtask config-schema` writes, with their expected contents.
fn generated() -> Vec<(PathBuf, String)> {
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap() + "\n";
    vec![
        (
            root().join("deploy/dbx.schema.json"),
            pretty(deploy::config_schema()),
        ),
        (
            root().join("deploy/helm/dbx/values.schema.json"),
            pretty(deploy::values_schema()),
        ),
        (
            root().join("deploy/helm/dbx/questions.yaml"),
            deploy::rancher_questions(),
        ),
    ]
}

#[test]
fn generated_files_are_current() {
    // `cargo xtask config-schema` sets this to write the files instead of checking them.
    let update = std::env::var_os("DBX_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (path, expected) in generated() {
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &expected).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo xtask config-schema`): {stale:?}"
    );
}

#[test]
fn the_charts_values_are_a_valid_config_and_match_the_schema() {
    let values: serde_json::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("deploy/helm/dbx/values.yaml")).unwrap(),
    )
    .unwrap();
    let config: dbx_service::DbxConfig = serde_json::from_value(values["config"].clone()).unwrap();
    let mut config = config;
    config.validate().unwrap();
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/dbx"));
    // Every top-level value is described by the schema, which allows nothing else.
    let schema = deploy::values_schema();
    let known = schema["properties"].as_object().unwrap();
    for key in values.as_object().unwrap().keys() {
        assert!(
            known.contains_key(key),
            "values.yaml has {key:?}, which values.schema.json does not describe"
        );
    }
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
}

#[test]
fn the_chart_probes_health_and_mounts_the_generated_config() {
    let templates = root().join("deploy/helm/dbx/templates");
    let deployment = std::fs::read_to_string(templates.join("deployment.yaml")).unwrap();
    assert!(deployment.contains("path: /health"), "probes on /health");
    assert!(
        deployment.contains("secretKeyRef"),
        "secrets are referenced, never inlined"
    );
    assert!(
        deployment.contains("DBX_AUTH_KEYS_FILE")
            && deployment.contains("secretName: {{ .Values.authKeys.secretName }}"),
        "the auth keys come from a Secret, so that the pod may listen on 0.0.0.0"
    );
    let configmap = std::fs::read_to_string(templates.join("configmap.yaml")).unwrap();
    assert!(configmap.contains("toToml .Values.config"));
}
