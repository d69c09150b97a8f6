package odoo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Kind classifies an Odoo failure by what the user must do about it.
type Kind int

const (
	// KindUnavailable: the server could not be reached or kept failing
	// (timeouts, dropped connections, 429, 5xx) after every retry.
	KindUnavailable Kind = iota + 1
	// KindAuth: Odoo refused the login or API key.
	KindAuth
	// KindAccess: the integration user lacks access rights (a model, a
	// company).
	KindAccess
	// KindUser: Odoo refused the operation (UserError), e.g. an unbalanced
	// entry or a locked period.
	KindUser
	// KindValidation: a constraint failed (ValidationError).
	KindValidation
	// KindMissing: the record does not exist (MissingError).
	KindMissing
	// KindUnknownField: a field this Odoo version does not have.
	KindUnknownField
	// KindNotFound: an unknown model or method.
	KindNotFound
	// KindServer: any other server-side exception.
	KindServer
	// KindProtocol: the answer was not what the protocol promises.
	KindProtocol
)

var kindNames = map[Kind]string{
	KindUnavailable: "unavailable", KindAuth: "authentication", KindAccess: "access rights",
	KindUser: "refused", KindValidation: "validation", KindMissing: "missing record",
	KindUnknownField: "unknown field", KindNotFound: "not found", KindServer: "server error",
	KindProtocol: "protocol",
}

func (k Kind) String() string { return kindNames[k] }

// Error is a failed Odoo call. It names the system (the config's name for
// it), the model and the method, says what went wrong and what to do, and
// never holds the API key: messages are built without it and scrubbed again
// before they are stored.
type Error struct {
	System string
	Model  string // empty for the common service
	Method string
	Kind   Kind
	// Exception is Odoo's exception class, e.g. odoo.exceptions.AccessError.
	Exception string
	// Message is Odoo's own message, or the transport failure.
	Message string
	// Field is the unknown field, for KindUnknownField.
	Field string
	// HTTPStatus is the last HTTP status seen, 0 if none.
	HTTPStatus int
	// Attempts is how many times the call was tried.
	Attempts int
	// MaybeApplied is set when a call that writes failed after it was sent
	// (a timeout, a dropped connection, a 5xx): Odoo may have done it.
	// Callers must look before trying again.
	MaybeApplied bool
	// Hint says what to do about it.
	Hint string
	err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "odoo system %q: %s: ", e.System, e.call())
	b.WriteString(e.summary())
	if e.Message != "" && e.Kind != KindUnavailable {
		fmt.Fprintf(&b, " (Odoo says: %s)", oneLine(e.Message))
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.err }

// call is "model.method", or "common.method" for the common service.
func (e *Error) call() string {
	if e.Model == "" {
		return e.Method
	}
	return e.Model + "." + e.Method
}

func (e *Error) summary() string {
	switch e.Kind {
	case KindUnavailable:
		s := "the server did not answer properly"
		if e.Attempts > 1 {
			s = fmt.Sprintf("gave up after %d attempts", e.Attempts)
		}
		return s + ": " + e.Message
	case KindAuth:
		return "Odoo refused the login or API key"
	case KindAccess:
		if isCompanyAccess(e.Message) {
			return "the integration user may not work in one of the companies asked for (AccessError)"
		}
		return fmt.Sprintf("the integration user may not read or write %s (AccessError)", e.modelShown())
	case KindUnknownField:
		return fmt.Sprintf("unknown field %q on %s", e.Field, e.modelShown())
	case KindNotFound:
		return "unknown model or method"
	case KindMissing:
		return "the record does not exist or was deleted"
	default:
		if e.Exception != "" {
			return "Odoo raised " + shortException(e.Exception)
		}
		return e.Kind.String()
	}
}

func (e *Error) modelShown() string {
	if e.Model == "" {
		return "this model"
	}
	return e.Model
}

// IsKind reports whether err is an Odoo error of kind k.
func IsKind(err error, k Kind) bool {
	var oe *Error
	return errors.As(err, &oe) && oe.Kind == k
}

// errorPayload is Odoo's error object: JSON-RPC's error.data, or JSON-2's
// whole body.
type errorPayload struct {
	Name      string `json:"name"`
	Message   string `json:"message"`
	Arguments []any  `json:"arguments"`
}

// kindOf maps an Odoo exception class to a Kind.
func kindOf(name string) Kind {
	switch name {
	case "odoo.exceptions.AccessDenied", "werkzeug.exceptions.Unauthorized":
		return KindAuth
	case "odoo.exceptions.AccessError":
		return KindAccess
	case "odoo.exceptions.UserError", "werkzeug.exceptions.UnprocessableEntity":
		return KindUser
	case "odoo.exceptions.ValidationError":
		return KindValidation
	case "odoo.exceptions.MissingError":
		return KindMissing
	case "werkzeug.exceptions.NotFound":
		return KindNotFound
	}
	return KindServer
}

// unknownField finds the field a ValueError names: "Invalid field 'memo' on
// model 'account.payment'" (17, 18), "Invalid field 'ref' on
// 'account.payment'" (19), or, in a domain, "Invalid field
// account.move.bad_field_x in leaf ...".
var unknownField = []*regexp.Regexp{
	regexp.MustCompile(`Invalid field '([^']+)'`),
	regexp.MustCompile(`Invalid field [a-z0-9_.]+\.([a-z0-9_]+) in (?:leaf|condition)`),
}

// unknownModel recognises 17/18/19's "Object x doesn't exist", raised as a
// UserError over JSON-RPC.
var unknownModel = regexp.MustCompile(`^Object \S+ doesn't exist`)

// fromPayload builds the Error of an Odoo exception.
func (c *Client) fromPayload(model, method string, p errorPayload, status int) *Error {
	e := &Error{System: c.system, Model: model, Method: method, Exception: p.Name,
		Message: c.redact.text(p.Message), HTTPStatus: status, Kind: kindOf(p.Name)}
	if e.Kind == KindServer && strings.HasSuffix(p.Name, "ValueError") {
		for _, re := range unknownField {
			if m := re.FindStringSubmatch(p.Message); m != nil {
				e.Kind, e.Field = KindUnknownField, m[1]
				break
			}
		}
	}
	if e.Kind == KindUser && unknownModel.MatchString(p.Message) {
		e.Kind = KindNotFound
	}
	if e.Kind == KindServer && status == http.StatusNotFound {
		e.Kind = KindNotFound
	}
	e.Hint = c.hint(e)
	return e
}

// hint says what the user can do about e.
func (c *Client) hint(e *Error) string {
	switch e.Kind {
	case KindAuth:
		return fmt.Sprintf("check the integration user's login and the API key in %s, and that the key has not expired or been revoked", c.keySource)
	case KindAccess:
		if isCompanyAccess(e.Message) {
			return "add the companies listed under companies: to the integration user in Odoo, or remove them from the config"
		}
		return fmt.Sprintf("grant the integration user read access to %s in Odoo (Settings > Users: an accounting group, e.g. Accounting / Invoicing or \"Show Accounting Features - Readonly\" for extract; post also needs to create journal entries)", e.modelShown())
	case KindUnknownField:
		if e.Model == "res.partner" {
			return "check partner_key in the config: this server's res.partner has no such field"
		}
		return fmt.Sprintf("this server runs Odoo %s and finrecon asks each version for its own fields, so a missing one points at a customised or unsupported version", c.version.Serie)
	case KindNotFound:
		return "is the account module installed, and is the URL that of the right database?"
	}
	return ""
}

func isCompanyAccess(msg string) bool {
	return strings.Contains(msg, "unauthorized or invalid companies")
}

func shortException(name string) string {
	if i := strings.LastIndex(name, "."); i >= 0 {
		return name[i+1:]
	}
	return name
}

// oneLine folds Odoo's multi-line messages onto one line and bounds their
// length, so an error stays readable in a log.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 400
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// decodePayload reads an Odoo error object, tolerating what is not one.
func decodePayload(raw json.RawMessage) (errorPayload, bool) {
	var p errorPayload
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || p.Name == "" {
		return errorPayload{}, false
	}
	return p, true
}
