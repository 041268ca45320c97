//go:build race

package opstest

func init() { buildFlags = append(buildFlags, "-race") }
