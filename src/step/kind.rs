//! The kinds of plan statements, as a type: scheduling and resume branch on
//! them, so a typo must be a compile error, not a silently different plan.

use serde::{Serialize, Serializer};
use std::fmt;

/// What a plan statement does. Its [`label`](StepKind::label) is what users
/// read (dry run, logs, JSON) and what the task state records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    Aggregate,
    Analyze,
    Cast,
    CheckConstraint,
    ClusterOn,
    Collation,
    Column,
    ColumnDefault,
    ColumnStatistics,
    Comment,
    Conversion,
    Domain,
    DomainConstraint,
    EventTrigger,
    ExclusionConstraint,
    Extension,
    ForeignDataWrapper,
    ForeignKey,
    ForeignKeyValidation,
    ForeignServer,
    ForeignTable,
    Function,
    Grant,
    Index,
    IndexAttach,
    MaterializedView,
    MaterializedViewRefresh,
    Operator,
    OperatorClass,
    OperatorFamily,
    OperatorFamilyMembers,
    Owner,
    PartitionAttach,
    Policy,
    PrimaryKey,
    Procedure,
    Publication,
    RenameColumn,
    RenameSchema,
    RenameTable,
    ReplicaIdentity,
    Role,
    RowLevelSecurity,
    Rule,
    RuleState,
    Schema,
    SecurityLabel,
    Sequence,
    SequenceOwnedBy,
    Statistics,
    Table,
    TableSetting,
    TextSearchConfiguration,
    TextSearchDictionary,
    TextSearchParser,
    TextSearchTemplate,
    Transform,
    Trigger,
    TriggerState,
    Type,
    UniqueConstraint,
    UserMapping,
    View,
    ViewColumnDefault,
}

impl StepKind {
    /// Every kind, for tests and documentation.
    pub const ALL: &'static [StepKind] = &[
        StepKind::Aggregate,
        StepKind::Analyze,
        StepKind::Cast,
        StepKind::CheckConstraint,
        StepKind::ClusterOn,
        StepKind::Collation,
        StepKind::Column,
        StepKind::ColumnDefault,
        StepKind::ColumnStatistics,
        StepKind::Comment,
        StepKind::Conversion,
        StepKind::Domain,
        StepKind::DomainConstraint,
        StepKind::EventTrigger,
        StepKind::ExclusionConstraint,
        StepKind::Extension,
        StepKind::ForeignDataWrapper,
        StepKind::ForeignKey,
        StepKind::ForeignKeyValidation,
        StepKind::ForeignServer,
        StepKind::ForeignTable,
        StepKind::Function,
        StepKind::Grant,
        StepKind::Index,
        StepKind::IndexAttach,
        StepKind::MaterializedView,
        StepKind::MaterializedViewRefresh,
        StepKind::Operator,
        StepKind::OperatorClass,
        StepKind::OperatorFamily,
        StepKind::OperatorFamilyMembers,
        StepKind::Owner,
        StepKind::PartitionAttach,
        StepKind::Policy,
        StepKind::PrimaryKey,
        StepKind::Procedure,
        StepKind::Publication,
        StepKind::RenameColumn,
        StepKind::RenameSchema,
        StepKind::RenameTable,
        StepKind::ReplicaIdentity,
        StepKind::Role,
        StepKind::RowLevelSecurity,
        StepKind::Rule,
        StepKind::RuleState,
        StepKind::Schema,
        StepKind::SecurityLabel,
        StepKind::Sequence,
        StepKind::SequenceOwnedBy,
        StepKind::Statistics,
        StepKind::Table,
        StepKind::TableSetting,
        StepKind::TextSearchConfiguration,
        StepKind::TextSearchDictionary,
        StepKind::TextSearchParser,
        StepKind::TextSearchTemplate,
        StepKind::Transform,
        StepKind::Trigger,
        StepKind::TriggerState,
        StepKind::Type,
        StepKind::UniqueConstraint,
        StepKind::UserMapping,
        StepKind::View,
        StepKind::ViewColumnDefault,
    ];

    /// The name users read, e.g. `foreign key validation`.
    pub fn label(self) -> &'static str {
        match self {
            StepKind::Aggregate => "aggregate",
            StepKind::Analyze => "analyze",
            StepKind::Cast => "cast",
            StepKind::CheckConstraint => "check constraint",
            StepKind::ClusterOn => "cluster on",
            StepKind::Collation => "collation",
            StepKind::Column => "column",
            StepKind::ColumnDefault => "column default",
            StepKind::ColumnStatistics => "column statistics",
            StepKind::Comment => "comment",
            StepKind::Conversion => "conversion",
            StepKind::Domain => "domain",
            StepKind::DomainConstraint => "domain constraint",
            StepKind::EventTrigger => "event trigger",
            StepKind::ExclusionConstraint => "exclusion constraint",
            StepKind::Extension => "extension",
            StepKind::ForeignDataWrapper => "foreign data wrapper",
            StepKind::ForeignKey => "foreign key",
            StepKind::ForeignKeyValidation => "foreign key validation",
            StepKind::ForeignServer => "foreign server",
            StepKind::ForeignTable => "foreign table",
            StepKind::Function => "function",
            StepKind::Grant => "grant",
            StepKind::Index => "index",
            StepKind::IndexAttach => "index attach",
            StepKind::MaterializedView => "materialized view",
            StepKind::MaterializedViewRefresh => "materialized view refresh",
            StepKind::Operator => "operator",
            StepKind::OperatorClass => "operator class",
            StepKind::OperatorFamily => "operator family",
            StepKind::OperatorFamilyMembers => "operator family members",
            StepKind::Owner => "owner",
            StepKind::PartitionAttach => "partition attach",
            StepKind::Policy => "policy",
            StepKind::PrimaryKey => "primary key",
            StepKind::Procedure => "procedure",
            StepKind::Publication => "publication",
            StepKind::RenameColumn => "rename column",
            StepKind::RenameSchema => "rename schema",
            StepKind::RenameTable => "rename table",
            StepKind::ReplicaIdentity => "replica identity",
            StepKind::Role => "role",
            StepKind::RowLevelSecurity => "row level security",
            StepKind::Rule => "rule",
            StepKind::RuleState => "rule state",
            StepKind::Schema => "schema",
            StepKind::SecurityLabel => "security label",
            StepKind::Sequence => "sequence",
            StepKind::SequenceOwnedBy => "sequence owned by",
            StepKind::Statistics => "statistics",
            StepKind::Table => "table",
            StepKind::TableSetting => "table setting",
            StepKind::TextSearchConfiguration => "text search configuration",
            StepKind::TextSearchDictionary => "text search dictionary",
            StepKind::TextSearchParser => "text search parser",
            StepKind::TextSearchTemplate => "text search template",
            StepKind::Transform => "transform",
            StepKind::Trigger => "trigger",
            StepKind::TriggerState => "trigger state",
            StepKind::Type => "type",
            StepKind::UniqueConstraint => "unique constraint",
            StepKind::UserMapping => "user mapping",
            StepKind::View => "view",
            StepKind::ViewColumnDefault => "view column default",
        }
    }

    /// Index builds that may run as soon as their table is loaded.
    pub fn is_index_build(self) -> bool {
        matches!(
            self,
            StepKind::Index
                | StepKind::PrimaryKey
                | StepKind::UniqueConstraint
                | StepKind::ExclusionConstraint
        )
    }

    /// Renames cannot be told apart from a missing object when run twice.
    pub fn is_rename(self) -> bool {
        matches!(
            self,
            StepKind::RenameColumn | StepKind::RenameSchema | StepKind::RenameTable
        )
    }

    /// Owner and privilege statements (`--keep-owners`).
    pub fn is_ownership(self) -> bool {
        matches!(self, StepKind::Owner | StepKind::Grant)
    }

    /// Statements that change an object another statement created (its
    /// owner, privileges, comment, label, a setting). When the target
    /// refuses one, the object is still there: only that statement is left
    /// out, never the object and what depends on it (a `GRANT MAINTAIN` an
    /// older target does not know must not cost a table its indexes).
    pub fn sets_an_attribute(self) -> bool {
        matches!(
            self,
            StepKind::Analyze
                | StepKind::ClusterOn
                | StepKind::ColumnDefault
                | StepKind::ColumnStatistics
                | StepKind::Comment
                | StepKind::ForeignKeyValidation
                | StepKind::Grant
                | StepKind::MaterializedViewRefresh
                | StepKind::Owner
                | StepKind::ReplicaIdentity
                | StepKind::RowLevelSecurity
                | StepKind::RuleState
                | StepKind::SecurityLabel
                | StepKind::SequenceOwnedBy
                | StepKind::TableSetting
                | StepKind::TriggerState
                | StepKind::ViewColumnDefault
        )
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for StepKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn labels_are_unique_and_every_kind_is_listed() {
        let labels: HashSet<&str> = StepKind::ALL.iter().map(|k| k.label()).collect();
        assert_eq!(labels.len(), StepKind::ALL.len());
        assert_eq!(StepKind::ALL.len(), 64);
        assert!(StepKind::ALL
            .iter()
            .filter(|k| k.is_rename())
            .all(|k| k.label().starts_with("rename ")));
    }
}
