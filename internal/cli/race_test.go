//go:build race

package cli_test

func init() { buildFlags = append(buildFlags, "-race") }
