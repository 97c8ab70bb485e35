//! Deployment artefacts generated from the configuration types: the JSON Schema of
//! `dbx.toml`, the Helm chart's `values.schema.json` and Rancher's `questions.yaml`.
//!
//! `cargo xtask config-schema` writes them under `deploy/`, and a test fails when the
//! committed files differ from what these functions produce.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::config::DbxConfig;

/// The JSON Schema (draft-07, which Helm understands) of `dbx.toml`.
pub fn config_schema() -> Value {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<DbxConfig>();
    let mut value = schema.to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".to_owned(),
            json!("https://dbx.invalid/schema/dbx.toml.json"),
        );
    }
    value
}

/// The schema of the Helm chart's `values.yaml`: the chart's own settings, and `config`,
/// which is a `dbx.toml` as YAML.
pub fn values_schema() -> Value {
    let mut config = config_schema();
    let definitions = config
        .as_object_mut()
        .and_then(|o| o.remove("definitions"))
        .unwrap_or_else(|| json!({}));
    if let Some(obj) = config.as_object_mut() {
        obj.remove("$schema");
        obj.remove("$id");
    }
    let mut definitions = definitions;
    if let Some(defs) = definitions.as_object_mut() {
        defs.insert("DbxConfig".to_owned(), config);
    }
    let secret_ref = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "A key of an existing Secret, exposed to dbx as an environment variable.",
        "properties": {
            "env": {"type": "string", "description": "The environment variable, e.g. POSTGRES_PASSWORD."},
            "secretName": {"type": "string", "description": "The Secret's name."},
            "key": {"type": "string", "description": "The key within the Secret."}
        },
        "required": ["env", "secretName", "key"]
    });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "dbx Helm chart values",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "replicaCount": {"type": "integer", "minimum": 0, "default": 1,
                "description": "Pods to run. SQLite data is per pod: keep 1 unless only server backends are used."},
            "image": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "repository": {"type": "string", "default": "dbx"},
                    "tag": {"type": "string", "default": "latest"},
                    "pullPolicy": {"type": "string", "enum": ["Always", "IfNotPresent", "Never"], "default": "IfNotPresent"}
                }
            },
            "service": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "type": {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer"], "default": "ClusterIP"},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8080}
                }
            },
            "persistence": {
                "type": "object", "additionalProperties": false,
                "description": "Storage for data-dir (SQLite files).",
                "properties": {
                    "enabled": {"type": "boolean", "default": false, "description": "A PersistentVolumeClaim instead of an emptyDir."},
                    "size": {"type": "string", "default": "1Gi"},
                    "storageClass": {"type": "string", "default": ""}
                }
            },
            "secrets": {"type": "array", "items": secret_ref, "default": [],
                "description": "Passwords and tokens from existing Secrets; reference them in config as ${VAR}."},
            "authKeys": {
                "type": "object", "additionalProperties": false,
                "description": "The Ed25519 public keys that sign tokens, from an existing Secret. The chart listens on 0.0.0.0, which dbx allows only with keys.",
                "properties": {
                    "secretName": {"type": "string", "default": "", "description": "The Secret holding the public keys (`dbx token keygen` writes dbx-auth.key.pub)."},
                    "key": {"type": "string", "default": "dbx-auth.key.pub", "description": "The Secret's key that holds them."}
                }
            },
            "resources": {"type": "object", "default": {}, "description": "Pod resources, as Kubernetes takes them."},
            "config": {"$ref": "#/definitions/DbxConfig"}
        },
        "definitions": definitions
    })
}

fn question_type(schema: &Value) -> (&'static str, Option<Vec<Value>>) {
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return ("enum", Some(options.clone()));
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let values: Vec<Value> = options
            .iter()
            .filter_map(|o| {
                o.get("const")
                    .or_else(|| o.get("enum").and_then(|e| e.get(0)))
            })
            .cloned()
            .collect();
        if !values.is_empty() {
            return ("enum", Some(values));
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => ("boolean", None),
        Some("integer") => ("int", None),
        _ => ("string", None),
    }
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Rancher's `questions.yaml`: a form for the chart's common settings and the SQLite
/// adapter's options, each with the description and default of the configuration type.
pub fn rancher_questions() -> String {
    let schema = config_schema();
    let defs = schema
        .get("definitions")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut out = String::from(
        "# Generated by `cargo xtask config-schema` from dbx's configuration types; do not edit.\n\
         questions:\n",
    );
    let mut push = |variable: &str,
                    label: &str,
                    description: &str,
                    kind: &str,
                    options: Option<Vec<Value>>,
                    default: Option<&Value>,
                    group: &str| {
        out.push_str(&format!(
            "  - variable: {variable}\n    label: {}\n",
            yaml_scalar(&json!(label))
        ));
        let description = description
            .split("\n\n")
            .next()
            .unwrap_or("")
            .replace('\n', " ");
        out.push_str(&format!(
            "    description: {}\n    type: {kind}\n",
            yaml_scalar(&json!(description))
        ));
        if let Some(options) = options {
            out.push_str("    options:\n");
            for option in options {
                out.push_str(&format!("      - {}\n", yaml_scalar(&option)));
            }
        }
        if let Some(default) = default {
            out.push_str(&format!("    default: {}\n", yaml_scalar(default)));
        }
        out.push_str(&format!("    group: {}\n", yaml_scalar(&json!(group))));
    };
    push(
        "image.tag",
        "Image tag",
        "The dbx image tag to run.",
        "string",
        None,
        Some(&json!("latest")),
        "Deployment",
    );
    push(
        "service.port",
        "Service port",
        "The port of Hrana, REST, the Studio and /health.",
        "int",
        None,
        Some(&json!(8080)),
        "Deployment",
    );
    push(
        "persistence.enabled",
        "Persistent storage",
        "Keep SQLite files on a PersistentVolumeClaim.",
        "boolean",
        None,
        Some(&json!(false)),
        "Deployment",
    );
    push(
        "persistence.size",
        "Storage size",
        "The size of the claim.",
        "string",
        None,
        Some(&json!("1Gi")),
        "Deployment",
    );
    if let Some(data_dir) = schema.pointer("/properties/data-dir") {
        let description = data_dir
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        push(
            "config.data-dir",
            "Data directory",
            description,
            "string",
            None,
            data_dir.get("default"),
            "dbx",
        );
    }
    let variants = defs
        .pointer("/AdapterConfig/oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_sqlite = |v: &&Value| {
        let kind = v.pointer("/properties/kind");
        kind.and_then(|k| k.get("const"))
            .or_else(|| kind.and_then(|k| k.pointer("/enum/0")))
            == Some(&json!("sqlite"))
    };
    let sqlite = variants.iter().find(is_sqlite);
    if let Some(props) = sqlite
        .and_then(|v| v.get("properties"))
        .and_then(Value::as_object)
    {
        for (name, prop) in props {
            if name == "cache" || name == "kind" {
                continue;
            }
            // Enums are references to definitions; the options live there.
            let resolved = prop
                .pointer("/allOf/0/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/definitions/"))
                .and_then(|name| defs.get(name))
                .unwrap_or(prop);
            let (kind, options) = question_type(resolved);
            let description = prop
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let label = name.replace('-', " ");
            push(
                &format!("config.adapters[0].{name}"),
                &label,
                description,
                kind,
                options,
                prop.get("default"),
                "SQLite adapter",
            );
        }
    }
    out
}
