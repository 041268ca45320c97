// Package migrations holds the SQL schema migrations, one folder per SQL
// dialect, embedded in the binary so a deployed app needs no loose files.
package migrations

import "embed"

// FS holds sqlite/*.sql, mysql/*.sql and postgres/*.sql, in goose's format.
//
//go:embed sqlite/*.sql mysql/*.sql postgres/*.sql
var FS embed.FS
