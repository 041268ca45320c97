// Package e2e holds the end-to-end browser tests.
package e2e
