// Package migrations holds the versioned SQL schema, one directory per
// dialect, applied by goose. Each file carries its Up and Down sections.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
