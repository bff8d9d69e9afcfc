//! Functions, procedures, aggregates, operators, casts, operator families and classes.
//!
//! Functions and procedures are kept as `pg_get_functiondef()` text; aggregates,
//! operators and casts have no server-side `CREATE` rendering, so their catalog
//! fields are read (already rendered as names and types) and assembled by
//! `ddl::routines`, as pg_dump does.

mod opclass;

pub use opclass::{OpClass, OpFamily, OpMember};

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

/// Functions, procedures, aggregates, operators and casts of the source.
#[derive(Debug, Clone, Default)]
pub struct Routines {
    pub functions: Vec<Function>,
    pub aggregates: Vec<Aggregate>,
    pub operators: Vec<Operator>,
    pub casts: Vec<Cast>,
    pub opfamilies: Vec<OpFamily>,
    pub opclasses: Vec<OpClass>,
}

/// A function, procedure or window function (not an aggregate).
#[derive(Debug, Clone)]
pub struct Function {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `f` function, `p` procedure, `w` window function.
    pub kind: String,
    pub language: String,
    /// `pg_get_function_identity_arguments()`: what names the function in COMMENT ON.
    pub identity_args: String,
    /// `prosrc`: the body, or the link symbol of C and internal functions.
    pub source: String,
    /// `probin`: the shared library of a C function.
    pub library: Option<String>,
    /// `pg_get_functiondef()`: a complete `CREATE OR REPLACE` statement without `;`.
    pub definition: String,
    pub comment: Option<String>,
}

/// An aggregate, as the pieces of `CREATE AGGREGATE`.
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `pg_get_function_arguments()`, with `ORDER BY` for ordered-set kinds.
    pub args: String,
    pub identity_args: String,
    pub nargs: i32,
    /// `n` normal, `o` ordered-set, `h` hypothetical-set.
    pub aggkind: String,
    pub sfunc: String,
    pub stype: String,
    pub sspace: i32,
    pub initcond: Option<String>,
    pub finalfunc: Option<String>,
    pub finalextra: bool,
    /// `r`/`s`/`w`, or `0` when the source (PostgreSQL 10) has no such setting.
    pub finalmodify: String,
    pub combinefunc: Option<String>,
    pub serialfunc: Option<String>,
    pub deserialfunc: Option<String>,
    pub msfunc: Option<String>,
    pub minvfunc: Option<String>,
    pub mstype: Option<String>,
    pub msspace: i32,
    pub minitcond: Option<String>,
    pub mfinalfunc: Option<String>,
    pub mfinalextra: bool,
    pub mfinalmodify: String,
    /// `OPERATOR(schema.op)`.
    pub sortop: Option<String>,
    /// `s` safe, `r` restricted, `u` unsafe.
    pub parallel: String,
    pub comment: Option<String>,
}

/// An operator (shell operators are left out: COMMUTATOR/NEGATOR recreate them).
#[derive(Debug, Clone)]
pub struct Operator {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `b` infix, `l` prefix, `r` postfix (PostgreSQL 13 and older).
    pub kind: String,
    pub left_type: Option<String>,
    pub right_type: Option<String>,
    pub function: String,
    /// `OPERATOR(schema.op)` references.
    pub commutator: Option<String>,
    pub negator: Option<String>,
    pub restrict: Option<String>,
    pub join: Option<String>,
    pub hashes: bool,
    pub merges: bool,
    pub comment: Option<String>,
}

/// A user-created cast.
#[derive(Debug, Clone)]
pub struct Cast {
    pub oid: Oid,
    pub source: String,
    pub target: String,
    /// `schema.name(identity arguments)` when `method` is `f`.
    pub function: Option<String>,
    /// `f` function, `i` INOUT, `b` binary-coercible (WITHOUT FUNCTION).
    pub method: String,
    /// `e` explicit, `a` assignment, `i` implicit.
    pub context: String,
    pub comment: Option<String>,
}

/// Reads them from the schemas named in `schemas`.
/// All families at once, pipelined on the session (see
/// [`super::Catalog::read`]).
pub async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Routines> {
    let (functions, aggregates, operators, casts, (opfamilies, opclasses)) = tokio::try_join!(
        query(
            client,
            include_str!("../../sql/catalog/functions.sql"),
            schemas,
            "functions.sql"
        ),
        query(
            client,
            include_str!("../../sql/catalog/aggregates.sql"),
            schemas,
            "aggregates.sql"
        ),
        query(
            client,
            include_str!("../../sql/catalog/operators.sql"),
            schemas,
            "operators.sql"
        ),
        query(
            client,
            include_str!("../../sql/catalog/casts.sql"),
            schemas,
            "casts.sql"
        ),
        opclass::read(client, schemas),
    )?;
    let functions = functions.iter().map(function).collect();
    let aggregates = aggregates.iter().map(aggregate).collect();
    let operators = operators.iter().map(operator).collect();
    let casts = casts
        .iter()
        .map(|r| Cast {
            oid: r.get("oid"),
            source: r.get("source"),
            target: r.get("target"),
            function: r.get("function"),
            method: r.get("method"),
            context: r.get("context"),
            comment: r.get("comment"),
        })
        .collect();
    Ok(Routines {
        functions,
        aggregates,
        operators,
        casts,
        opfamilies,
        opclasses,
    })
}

async fn query(
    client: &Client,
    sql: &str,
    schemas: &[String],
    file: &str,
) -> anyhow::Result<Vec<Row>> {
    client
        .query_typed(sql, &[(&schemas, Type::NAME_ARRAY)])
        .await
        .with_context(|| format!("reading sql/catalog/{file}"))
}

fn function(r: &Row) -> Function {
    Function {
        oid: r.get("oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        kind: r.get("kind"),
        language: r.get("language"),
        identity_args: r.get("identity_args"),
        source: r.get("source"),
        library: r.get("library"),
        definition: r.get("definition"),
        comment: r.get("comment"),
    }
}

fn aggregate(r: &Row) -> Aggregate {
    Aggregate {
        oid: r.get("oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        args: r.get("args"),
        identity_args: r.get("identity_args"),
        nargs: r.get("nargs"),
        aggkind: r.get("aggkind"),
        sfunc: r.get("sfunc"),
        stype: r.get("stype"),
        sspace: r.get("sspace"),
        initcond: r.get("initcond"),
        finalfunc: r.get("finalfunc"),
        finalextra: r.get("finalextra"),
        finalmodify: r.get("finalmodify"),
        combinefunc: r.get("combinefunc"),
        serialfunc: r.get("serialfunc"),
        deserialfunc: r.get("deserialfunc"),
        msfunc: r.get("msfunc"),
        minvfunc: r.get("minvfunc"),
        mstype: r.get("mstype"),
        msspace: r.get("msspace"),
        minitcond: r.get("minitcond"),
        mfinalfunc: r.get("mfinalfunc"),
        mfinalextra: r.get("mfinalextra"),
        mfinalmodify: r.get("mfinalmodify"),
        sortop: r.get("sortop"),
        parallel: r.get("parallel"),
        comment: r.get("comment"),
    }
}

fn operator(r: &Row) -> Operator {
    Operator {
        oid: r.get("oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        kind: r.get("kind"),
        left_type: r.get("left_type"),
        right_type: r.get("right_type"),
        function: r.get("function"),
        commutator: r.get("commutator"),
        negator: r.get("negator"),
        restrict: r.get("restrict"),
        join: r.get("join"),
        hashes: r.get("hashes"),
        merges: r.get("merges"),
        comment: r.get("comment"),
    }
}
