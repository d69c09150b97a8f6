package odoo

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// redacted is what a secret prints as, wherever it is printed.
const redacted = "REDACTED"

// Secret holds an API key. Every way Go has of printing a value — %v, %+v,
// %#v, %s, String, JSON, text marshalling, slog — prints REDACTED, so a
// Secret that reaches a log line, an error or an output file by mistake
// does not leak. Only Reveal gives the value, and only the request builders
// call it.
type Secret struct{ value string }

// NewSecret wraps a secret value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret itself, to put in a request.
func (s Secret) Reveal() string { return s.value }

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (*Secret) UnmarshalJSON([]byte) error {
	return errors.New("odoo: a secret is never read from JSON")
}
func (*Secret) UnmarshalText([]byte) error {
	return errors.New("odoo: a secret is never read from text")
}

// redactor scrubs known secrets out of text. Every error the package
// returns passes through one, as a second line of defence behind never
// putting a secret in a message in the first place: Odoo's own messages are
// quoted in errors, and a server could echo what it was sent.
type redactor struct{ secrets []string }

func newRedactor(secrets ...Secret) redactor {
	var r redactor
	for _, s := range secrets {
		// A very short "secret" would redact ordinary words; the config
		// rejects such keys anyway.
		if len(s.value) >= 4 {
			r.secrets = append(r.secrets, s.value)
		}
	}
	return r
}

func (r redactor) text(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}

// err returns err with its message scrubbed; errors.Is and errors.As still
// see the original chain.
func (r redactor) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.text(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// Format keeps %+v and %#v, which would print the cause's fields, to the
// scrubbed message.
func (e *redactedError) Format(f fmt.State, _ rune) { io.WriteString(f, e.msg) }
