// Package fail classifies errors by whose problem they are, so that the CLI
// can map them to DESIGN §8's exit codes in one place: a bad configuration or
// rule (the user must fix a file), or a failing source or system (retry or
// call whoever runs it). Unclassified errors are internal failures.
package fail

import "errors"

// Kind is the class of an error.
type Kind int

const (
	Internal Kind = iota
	// Config: bad usage, configuration or rules.
	Config
	// Source: a source file or system could not be read or written.
	Source
)

type classified struct {
	kind Kind
	err  error
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// ConfigErr marks err as a configuration problem.
func ConfigErr(err error) error {
	if err == nil {
		return nil
	}
	return &classified{Config, err}
}

// SourceErr marks err as a source or system failure.
func SourceErr(err error) error {
	if err == nil {
		return nil
	}
	return &classified{Source, err}
}

// KindOf returns the class of the outermost classified error in err's chain.
func KindOf(err error) Kind {
	var c *classified
	if errors.As(err, &c) {
		return c.kind
	}
	return Internal
}
