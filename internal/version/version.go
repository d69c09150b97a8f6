// Package version holds finrecon's version, recorded in every snapshot and
// run so that an auditor knows which engine produced a result.
package version

// Version is set at build time with
// -ldflags "-X github.com/finrecon/finrecon/internal/version.Version=v1.2.3".
// Outputs depend on it: two builds with the same version must behave the same.
var Version = "0.1.0-dev"
