//! Extensions the source uses: present on the target, at a version it can
//! install, and creatable by the target login.
//!
//! The judgement is a pure function of what both servers report, so every
//! combination is unit-tested without needing two servers with different
//! contrib sets.

use super::{Context, End, Finding, SQL};
use anyhow::Context as _;
use std::collections::HashMap;

/// What the target offers for one extension (`pg_available_extensions`).
#[derive(Debug, Clone, Default)]
pub(super) struct Offer {
    pub default_version: String,
    pub installed_version: Option<String>,
    /// Every installable version.
    pub versions: Vec<String>,
    /// Versions a non-superuser may create (trusted on 13+, or not superuser-only).
    pub unprivileged: Vec<String>,
}

/// The target login, as far as creating extensions goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Login<'a> {
    pub name: &'a str,
    pub superuser: bool,
    pub can_create: bool,
}

/// Judges one source extension against the target's offer.
pub(super) fn judge(
    name: &str,
    version: &str,
    offer: Option<&Offer>,
    login: Login<'_>,
) -> Vec<Finding> {
    let Some(o) = offer else {
        return vec![Finding::failure(
            "target.extension.missing",
            format!("extension {name} (version {version} on the source) is not available on the target"),
            format!(
                "install the package that provides {name} on the target server (on a managed service, \
                 check its supported extensions), or drop or exclude the objects that use it"
            ),
        )];
    };
    let mut out = Vec::new();
    if let Some(installed) = &o.installed_version {
        if installed != version {
            out.push(Finding::warning(
                "target.extension.version",
                format!("extension {name} is installed on the target at version {installed}, the source has {version}"),
                format!("check that objects using {name} behave the same, or run ALTER EXTENSION {name} UPDATE on the older side"),
            ));
        }
        return out;
    }
    let to_create = if o.versions.iter().any(|v| v == version) {
        version.to_string()
    } else {
        out.push(Finding::warning(
            "target.extension.version",
            format!(
                "extension {name} {version} cannot be installed on the target (it offers {}); version {} will be created",
                o.versions.join(", "),
                o.default_version
            ),
            format!("check that objects using {name} behave the same at version {}", o.default_version),
        ));
        o.default_version.clone()
    };
    let allowed = login.superuser || (login.can_create && o.unprivileged.contains(&to_create));
    if !allowed {
        out.push(
            Finding::failure(
                "target.extension.privilege",
                format!(
                    "{} cannot create extension {name} on the target (it needs a superuser{})",
                    login.name,
                    if login.can_create {
                        ""
                    } else {
                        " or CREATE on the database"
                    }
                ),
                format!("have a superuser run {SQL} on the target database before migrating"),
            )
            .with_sql(
                End::Target,
                vec![format!(
                    "CREATE EXTENSION IF NOT EXISTS {};",
                    crate::pg::quote_ident(name)
                )],
            ),
        );
    }
    out
}

/// Compares the source's extensions with the target's offer.
pub(super) async fn check(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let rows = cx
        .source
        .query_typed(
            "SELECT extname::text, extversion::text FROM pg_catalog.pg_extension \
             WHERE extname <> 'plpgsql' ORDER BY 1",
            &[],
        )
        .await
        .context("reading source extensions")?;
    let used: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    if used.is_empty() {
        return Ok(vec![Finding::pass(
            "target.extension",
            "the source uses no extension besides plpgsql",
        )]);
    }
    let names: Vec<String> = used.iter().map(|u| u.0.clone()).collect();
    let sql = include_str!("../../sql/precheck/extensions_target.sql");
    let offers: HashMap<String, Offer> = cx
        .target
        .query(sql, &[&names])
        .await
        .context("reading target extensions (sql/precheck/extensions_target.sql)")?
        .iter()
        .map(|r| {
            (
                r.get::<_, String>("name"),
                Offer {
                    default_version: r.get("default_version"),
                    installed_version: r.get("installed_version"),
                    versions: r.get("versions"),
                    unprivileged: r.get("unprivileged_versions"),
                },
            )
        })
        .collect();
    let login = Login {
        name: &cx.tgt.login,
        superuser: cx.tgt.superuser,
        can_create: cx.tgt.can_create,
    };
    let mut out: Vec<Finding> = used
        .iter()
        .flat_map(|(n, v)| judge(n, v, offers.get(n), login))
        .collect();
    if out.is_empty() {
        out.push(Finding::pass(
            "target.extension",
            format!(
                "the target can provide every source extension: {}",
                names.join(", ")
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precheck::Severity;

    fn offer(installed: Option<&str>, versions: &[&str], unprivileged: &[&str]) -> Offer {
        Offer {
            default_version: versions.last().map_or(String::new(), |v| v.to_string()),
            installed_version: installed.map(str::to_string),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            unprivileged: unprivileged.iter().map(|v| v.to_string()).collect(),
        }
    }
    const SUPER: Login<'static> = Login {
        name: "admin",
        superuser: true,
        can_create: true,
    };
    const PLAIN: Login<'static> = Login {
        name: "app",
        superuser: false,
        can_create: true,
    };
    const NO_CREATE: Login<'static> = Login {
        name: "app",
        superuser: false,
        can_create: false,
    };

    fn codes(v: &[Finding]) -> Vec<(&'static str, Severity)> {
        v.iter().map(|f| (f.code, f.severity)).collect()
    }

    /// What, the target's offer, the login, the expected (code, severity) list.
    type Case = (
        &'static str,
        Option<Offer>,
        Login<'static>,
        Vec<(&'static str, Severity)>,
    );

    #[test]
    fn table_of_cases() {
        let ok = offer(None, &["1.3", "1.4"], &[]);
        let trusted = offer(None, &["1.3", "1.4"], &["1.3", "1.4"]);
        let cases: Vec<Case> = vec![
            (
                "absent",
                None,
                SUPER,
                vec![("target.extension.missing", Severity::Failure)],
            ),
            ("superuser, same version", Some(ok.clone()), SUPER, vec![]),
            (
                "plain login, untrusted",
                Some(ok.clone()),
                PLAIN,
                vec![("target.extension.privilege", Severity::Failure)],
            ),
            ("plain login, trusted", Some(trusted.clone()), PLAIN, vec![]),
            (
                "trusted, no CREATE on db",
                Some(trusted),
                NO_CREATE,
                vec![("target.extension.privilege", Severity::Failure)],
            ),
            (
                "installed, same version",
                Some(offer(Some("1.4"), &["1.4"], &[])),
                NO_CREATE,
                vec![],
            ),
            (
                "installed, other version",
                Some(offer(Some("1.8"), &["1.8"], &[])),
                NO_CREATE,
                vec![("target.extension.version", Severity::Warning)],
            ),
            (
                "version not offered",
                Some(offer(None, &["1.7", "1.8"], &[])),
                SUPER,
                vec![("target.extension.version", Severity::Warning)],
            ),
        ];
        for (what, o, login, want) in cases {
            let got = judge("hstore", "1.4", o.as_ref(), login);
            assert_eq!(codes(&got), want, "{what}");
        }
    }

    #[test]
    fn missing_names_extension_and_fix() {
        let f = &judge("chkpass", "1.0", None, SUPER)[0];
        assert!(
            f.message.contains("extension chkpass")
                && f.message.contains("not available on the target")
        );
        assert!(f
            .fix
            .as_deref()
            .is_some_and(|x| x.contains("install the package")));
    }
}
