// Package doccheck holds the test that keeps the module documented: every
// package has a package doc comment and every exported name a doc comment.
// It has no code of its own; run it with go test ./internal/doccheck.
package doccheck
