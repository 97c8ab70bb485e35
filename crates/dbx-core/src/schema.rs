//! What introspection returns: tables, columns, keys and indexes.

/// Whether a relation is a table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TableKind {
    /// A base table.
    Table,
    /// A view.
    View,
}

/// A table or view, as listed by [`Adapter::tables`](crate::Adapter::tables).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableInfo {
    /// The name.
    pub name: String,
    /// Table or view.
    pub kind: TableKind,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnSchema {
    /// The name.
    pub name: String,
    /// The declared type as the backend reports it; `None` where none was declared.
    pub decltype: Option<String>,
    /// Whether the column accepts `NULL`.
    pub nullable: bool,
    /// The default expression, as SQL text.
    pub default: Option<String>,
    /// The column's 1-based position in the primary key, if it is part of it.
    pub primary_key: Option<u32>,
}

/// An index over a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexSchema {
    /// The index name.
    pub name: String,
    /// The indexed columns, in key order; an expression is given as its SQL text.
    pub columns: Vec<String>,
    /// Whether the index enforces uniqueness.
    pub unique: bool,
}

/// A foreign key from a table to another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForeignKeySchema {
    /// The constraint name, where the backend keeps one.
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// The referenced columns, in the same order as `columns`.
    pub referenced_columns: Vec<String>,
    /// The `ON UPDATE` action, upper-case (`NO ACTION`, `CASCADE`, ...).
    pub on_update: String,
    /// The `ON DELETE` action, upper-case.
    pub on_delete: String,
}

/// Everything introspection knows about one table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableSchema {
    /// The table name.
    pub name: String,
    /// Table or view.
    pub kind: TableKind,
    /// The columns, in declaration order.
    pub columns: Vec<ColumnSchema>,
    /// The primary-key columns, in key order; empty when there is none.
    pub primary_key: Vec<String>,
    /// Indexes other than the primary key's, sorted by name. Indexes that back a `UNIQUE`
    /// constraint are included.
    pub indexes: Vec<IndexSchema>,
    /// Foreign keys, in the order the backend lists them.
    pub foreign_keys: Vec<ForeignKeySchema>,
}

impl TableSchema {
    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }
}
