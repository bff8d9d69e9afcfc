//! `server_version_num` values of the PostgreSQL majors pgferry knows, so that
//! every version rule reads as the release it is about (`>= PG14`), not as a
//! magic number.

pub const PG10: i32 = 100000;
pub const PG11: i32 = 110000;
pub const PG12: i32 = 120000;
pub const PG13: i32 = 130000;
pub const PG14: i32 = 140000;
pub const PG15: i32 = 150000;
pub const PG16: i32 = 160000;
pub const PG17: i32 = 170000;
pub const PG18: i32 = 180000;
