package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

const leakyKey = "0123456789abcdef0123456789abcdef01234567"

// TestSecretNeverPrints tries every way Go prints a value.
func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret(leakyKey)
	settings := Settings{System: "odoo", Key: s, Login: "bot"}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, settings), fmt.Sprintf(verb, &settings))
	}
	j, _ := json.Marshal(map[string]any{"key": s, "ptr": &s})
	txt, _ := s.MarshalText()
	out = append(out, string(j), string(txt), s.String(), fmt.Sprint([]Secret{s}))
	log, buf := logBuffer()
	log.Info("secret", "key", s, "settings", settings, "group", slog.Group("g", "k", s))
	jl := slog.New(slog.NewJSONHandler(buf, nil))
	jl.Info("secret", "key", s, "settings", settings)
	out = append(out, buf.String())
	for _, o := range out {
		if strings.Contains(o, leakyKey) || strings.Contains(o, leakyKey[:10]) {
			t.Errorf("secret printed: %s", o)
		}
	}
	if s.Reveal() != leakyKey {
		t.Error("Reveal lost the value")
	}
	if err := json.Unmarshal([]byte(`"x"`), &s); err == nil {
		t.Error("a Secret was read from JSON")
	}
}

// TestRedactorScrubsErrors: an error that quotes the key — a server
// echoing what it got — comes out scrubbed, still matching errors.Is.
func TestRedactorScrubsErrors(t *testing.T) {
	r := newRedactor(NewSecret(leakyKey))
	base := errors.New("server said: bad key " + leakyKey)
	err := r.err(fmt.Errorf("wrapped: %w", base))
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%v", err)} {
		if strings.Contains(s, leakyKey) {
			t.Errorf("not scrubbed: %s", s)
		}
	}
	if !errors.Is(err, base) {
		t.Error("errors.Is lost the cause")
	}
}

// TestNoSecretInLogsOrErrors runs every path — extract, incremental,
// faults, a bad key, an access error, a dry run, an apply, a refused
// batch — at debug level, with a server that echoes the key it was sent
// in its error messages, and greps every log line and error for the keys.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	log, buf := logBuffer()
	var errs []string
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	wrongKey := "feedfacefeedfacefeedfacefeedfacefeedface"
	for _, v := range versions {
		for _, protocol := range protocolsOf(v) {
			srv, s := postServer(t, v)
			s.Protocol = protocol
			srv.Inject(&odootest.Fault{Match: odootest.OnMethod("account.move.line", "search_read"), Status: http.StatusBadGateway})
			srv.Inject(&odootest.Fault{Match: odootest.OnMethod("account.payment", "search_read"), Drop: true})
			_, err := Extract(context.Background(), ExtractOptions{Settings: s, Log: log})
			keep(err)
			_, err = Extract(context.Background(), ExtractOptions{Settings: s, Log: log})
			keep(err)
			dir := testBatch(t)
			for _, apply := range []bool{false, true, true} {
				_, err = Post(context.Background(), PostOptions{Settings: s, BatchDir: dir, Apply: apply, Log: log})
				keep(err)
			}
			bad := s
			bad.Key = NewSecret(wrongKey)
			_, err = Extract(context.Background(), ExtractOptions{Settings: bad, Log: log})
			keep(err)
			_, err = Post(context.Background(), PostOptions{Settings: bad, BatchDir: dir, Apply: true, Log: log})
			keep(err)
			limited := s
			limited.Login, limited.Key = odootest.LimitedLogin, NewSecret(odootest.LimitedKey)
			_, err = Extract(context.Background(), ExtractOptions{Settings: limited, Log: log})
			keep(err)
			// A server echoing the key in its answer is scrubbed too.
			srv.Inject(&odootest.Fault{Match: odootest.OnMethod("res.currency", "read"), EchoKey: true})
			_, err = Extract(context.Background(), ExtractOptions{Settings: s, Log: log})
			keep(err)
		}
	}
	_, s := postServer(t, "17.0")
	_, err := Post(context.Background(), PostOptions{Settings: s, Log: log, BatchDir: writeBatch(t,
		entry("k", "YourCompany", "USD", "2026-11-30", [4]string{"443000", "", "2.00", "0"}, [4]string{"201000", "", "0", "1.00"}))})
	keep(err)
	if !strings.Contains(all(errs), "you sent REDACTED") {
		t.Error("the echoing server's error did not come through, scrubbed")
	}
	if len(errs) < 10 || buf.Len() == 0 {
		t.Fatalf("only %d errors and %d bytes of logs: the scenarios did not run", len(errs), buf.Len())
	}
	text := buf.String() + all(errs)
	for _, key := range []string{odootest.AdminKey, odootest.LimitedKey, wrongKey} {
		if strings.Contains(text, key) || strings.Contains(text, key[:12]) {
			t.Errorf("key %s…%s leaked:\n%s", key[:4], key[len(key)-4:], excerpt(text, key[:12]))
		}
	}
	if !strings.Contains(buf.String(), "level=DEBUG") {
		t.Error("no debug lines were logged")
	}
}

func all(errs []string) string { return strings.Join(errs, "\n") }

func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	if i < 0 {
		return ""
	}
	return s[max(0, i-200):min(len(s), i+200)]
}

// TestEchoedKeyIsScrubbed: Odoo quoting the key back in an error message.
func TestEchoedKeyIsScrubbed(t *testing.T) {
	srv := server(t, "19.0")
	s := settings(t, srv)
	c, err := Dial(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	oe := c.fromPayload("res.partner", "search_read", errorPayload{Name: "odoo.exceptions.UserError", Message: "key " + odootest.AdminKey + " is odd"}, 200)
	if strings.Contains(oe.Error(), odootest.AdminKey) {
		t.Errorf("echoed key kept: %s", oe)
	}
}
