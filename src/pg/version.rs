//! Server versions as `server_version_num` values, named, so version gates
//! can be grepped and read (`version_num >= PG14`) instead of bare numbers.

/// PostgreSQL 10: the oldest source pgferry supports (the seed's Aurora 10).
pub const PG10: i32 = 100_000;
/// 11: procedures (`prokind`), covering indexes on partitions.
pub const PG11: i32 = 110_000;
/// 12: generated columns; `WITH OIDS`, `abstime`/`reltime`/`tinterval` gone.
pub const PG12: i32 = 120_000;
/// 13: trusted extensions; trigger enabling on partitions.
pub const PG13: i32 = 130_000;
/// 14: multiranges, TID range scans; postfix operators gone; array functions
/// take `anycompatible`.
pub const PG14: i32 = 140_000;
/// 15: ICU provider per database, `CREATE_REPLICATION_SLOT (SNAPSHOT ...)`.
pub const PG15: i32 = 150_000;
/// 16: the SET option of role membership.
pub const PG16: i32 = 160_000;
/// 17
pub const PG17: i32 = 170_000;
/// 18
pub const PG18: i32 = 180_000;
