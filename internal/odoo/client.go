package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/finrecon/finrecon/internal/version"
)

// Version is the server's Odoo version.
type Version struct {
	Major int    // 17, 18, 19
	Serie string // "17.0"
}

// Client calls one Odoo server over JSON-RPC or JSON-2. It is safe for
// sequential use; WithCompanies gives a copy bound to other companies.
type Client struct {
	system    string
	url       string
	db        string
	login     string
	key       Secret
	keySource string
	protocol  string // jsonrpc or json2, once dialled
	version   Version
	uid       int64
	companies []int64

	http       *http.Client
	timeout    time.Duration
	attempts   int
	retryDelay time.Duration
	sleep      func(context.Context, time.Duration) error
	log        *slog.Logger
	redact     redactor
	ids        *atomic.Int64
}

// Dial connects to the server of s: it reads the server's version, picks
// the protocol (auto: JSON-2 from Odoo 19 on) and, for JSON-RPC,
// authenticates. Errors name the system and never contain the key.
func Dial(ctx context.Context, s Settings, log *slog.Logger) (*Client, error) {
	s = s.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		system: s.System, url: s.URL, db: s.DB, login: s.Login, key: s.Key, keySource: s.KeySource,
		companies: s.companyIDs(), timeout: s.Timeout, attempts: s.Retries + 1, retryDelay: s.RetryDelay,
		sleep: s.sleep, log: log.With("system", s.System), redact: newRedactor(s.Key), ids: new(atomic.Int64),
		http: s.HTTPClient,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if err := c.dial(ctx, s.Protocol); err != nil {
		return nil, c.redact.err(err)
	}
	c.log.Debug("odoo connected", "version", c.version.Serie, "protocol", c.protocol, "uid", c.uid)
	return c, nil
}

func (c *Client) dial(ctx context.Context, protocol string) error {
	v, err := c.serverVersion(ctx, protocol)
	if err != nil {
		return err
	}
	if v.Major < 17 {
		return &Error{System: c.system, Method: "version", Kind: KindServer,
			Message: "server runs Odoo " + v.Serie, Hint: "finrecon supports Odoo 17, 18 and 19"}
	}
	c.version = v
	switch {
	case protocol == "json2" && v.Major < 19:
		return &Error{System: c.system, Method: "version", Kind: KindNotFound,
			Message: "server runs Odoo " + v.Serie, Hint: "JSON-2 exists from Odoo 19 on: set protocol: jsonrpc (or auto)"}
	case protocol == "json2", protocol == "auto" && v.Major >= 19:
		c.protocol = "json2"
		return nil
	}
	c.protocol = "jsonrpc"
	return c.authenticate(ctx)
}

// serverVersion asks common.version over JSON-RPC, or GET /web/version
// when JSON-2 is asked for (or /jsonrpc is gone, as Odoo announced it
// would be).
func (c *Client) serverVersion(ctx context.Context, protocol string) (Version, error) {
	if protocol != "json2" {
		raw, err := c.common(ctx, "version", []any{})
		if err == nil {
			var r struct {
				Info  []any  `json:"server_version_info"`
				Serie string `json:"server_serie"`
			}
			return parseVersion(raw, &r, func() ([]any, string) { return r.Info, r.Serie })
		}
		if !IsKind(err, KindNotFound) || protocol == "jsonrpc" {
			return Version{}, err
		}
	}
	body, err := c.roundTrip(ctx, request{method: "version", httpMethod: http.MethodGet, path: "/web/version"})
	if err != nil {
		return Version{}, err
	}
	if body.status != http.StatusOK {
		return Version{}, c.statusError("", "version", body)
	}
	var r struct {
		Info    []any  `json:"version_info"`
		Version string `json:"version"`
	}
	return parseVersion(body.data, &r, func() ([]any, string) { return r.Info, r.Version })
}

// parseVersion decodes a version answer into r and reads the major
// version from it.
func parseVersion(raw []byte, r any, get func() ([]any, string)) (Version, error) {
	if err := decodeJSON(raw, r); err != nil {
		return Version{}, fmt.Errorf("odoo: version: %w", err)
	}
	info, serie := get()
	if len(info) == 0 {
		return Version{}, fmt.Errorf("odoo: version: no version_info in the answer")
	}
	first := fmt.Sprint(info[0])
	major, err := strconv.Atoi(first)
	if err != nil {
		// SaaS builds say "saas~18.2": take the number after the tilde.
		if _, err2 := fmt.Sscanf(first, "saas~%d", &major); err2 != nil {
			return Version{}, fmt.Errorf("odoo: version: unreadable major version %q", first)
		}
	}
	return Version{Major: major, Serie: serie}, nil
}

// authenticate gets the uid JSON-RPC calls carry. Odoo answers false, not
// an error, for bad credentials.
func (c *Client) authenticate(ctx context.Context) error {
	raw, err := c.common(ctx, "authenticate", []any{c.db, c.login, c.key.Reveal(), map[string]any{}})
	if err != nil {
		return err
	}
	var uid json.Number
	if json.Unmarshal(raw, &uid) != nil || uid == "" {
		e := &Error{System: c.system, Method: "authenticate", Kind: KindAuth}
		e.Hint = c.hint(e)
		return e
	}
	n, err := uid.Int64()
	if err != nil || n <= 0 {
		return &Error{System: c.system, Method: "authenticate", Kind: KindProtocol, Message: "uid is not a positive number"}
	}
	c.uid = n
	return nil
}

// Version is the server's version.
func (c *Client) Version() Version { return c.version }

// Protocol is jsonrpc or json2.
func (c *Client) Protocol() string { return c.protocol }

// WithCompanies returns a client whose calls run in these companies
// (context allowed_company_ids); nil means the configured companies.
func (c *Client) WithCompanies(ids []int64) *Client {
	cp := *c
	if ids != nil {
		cp.companies = append([]int64(nil), ids...)
	}
	return &cp
}

// callContext is the context every call carries: English labels and UTC so
// that what comes back does not depend on the integration user's settings,
// and the companies the call may see.
func (c *Client) callContext() map[string]any {
	ctx := map[string]any{"lang": "en_US", "tz": "UTC"}
	if len(c.companies) > 0 {
		ctx["allowed_company_ids"] = c.companies
	}
	return ctx
}

// positional lists, per method, the arguments JSON-RPC passes by position
// (execute_kw's args); the rest go as keyword arguments. JSON-2 passes all
// of them by name.
var positional = map[string][]string{
	"search_read":  {"domain"},
	"search":       {"domain"},
	"search_count": {"domain"},
	"read":         {"ids", "fields"},
	"create":       {"vals_list"},
	"fields_get":   {"allfields"},
}

// execute calls model.method with named arguments. Writes (unsafe) are not
// retried once they may have reached the server.
func (c *Client) execute(ctx context.Context, model, method string, named map[string]any, unsafe bool) (json.RawMessage, error) {
	args := map[string]any{"context": c.callContext()}
	for k, v := range named {
		args[k] = v
	}
	var (
		raw json.RawMessage
		err error
	)
	if c.protocol == "json2" {
		raw, err = c.json2(ctx, model, method, args, unsafe)
	} else {
		raw, err = c.executeKW(ctx, model, method, args, unsafe)
	}
	return raw, c.redact.err(err)
}

func (c *Client) executeKW(ctx context.Context, model, method string, args map[string]any, unsafe bool) (json.RawMessage, error) {
	pos := []any{}
	kw := map[string]any{}
	names := positional[method]
	for _, n := range names {
		pos = append(pos, args[n])
	}
	for k, v := range args {
		if !contains(names, k) {
			kw[k] = v
		}
	}
	params := map[string]any{
		"service": "object", "method": "execute_kw",
		"args": []any{c.db, c.uid, c.key.Reveal(), model, method, pos, kw},
	}
	return c.jsonRPC(ctx, model, method, params, unsafe)
}

// common calls the common service (no credentials but authenticate's).
func (c *Client) common(ctx context.Context, method string, args []any) (json.RawMessage, error) {
	params := map[string]any{"service": "common", "method": method, "args": args}
	raw, err := c.jsonRPC(ctx, "", method, params, false)
	return raw, c.redact.err(err)
}

// rpcEnvelope is a JSON-RPC answer: HTTP 200 either way, an error object
// instead of a result when Odoo raised.
type rpcEnvelope struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    json.Number     `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func (c *Client) jsonRPC(ctx context.Context, model, method string, params map[string]any, unsafe bool) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": c.ids.Add(1), "params": params})
	if err != nil {
		return nil, fmt.Errorf("odoo: encode %s.%s: %w", model, method, err)
	}
	resp, err := c.roundTrip(ctx, request{model: model, method: method, httpMethod: http.MethodPost, path: "/jsonrpc", body: body, unsafe: unsafe})
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, c.statusError(model, method, resp)
	}
	var env rpcEnvelope
	if err := json.Unmarshal(resp.data, &env); err != nil {
		return nil, &Error{System: c.system, Model: model, Method: method, Kind: KindProtocol, Message: "the answer is not JSON-RPC: " + err.Error()}
	}
	if env.Error != nil {
		p, ok := decodePayload(env.Error.Data)
		if !ok {
			p = errorPayload{Name: "unknown", Message: env.Error.Message}
		}
		return nil, c.fromPayload(model, method, p, resp.status)
	}
	return env.Result, nil
}

func (c *Client) json2(ctx context.Context, model, method string, args map[string]any, unsafe bool) (json.RawMessage, error) {
	body, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("odoo: encode %s.%s: %w", model, method, err)
	}
	resp, err := c.roundTrip(ctx, request{model: model, method: method, httpMethod: http.MethodPost,
		path: "/json/2/" + model + "/" + method, body: body, unsafe: unsafe, bearer: true})
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, c.statusError(model, method, resp)
	}
	return resp.data, nil
}

// statusError maps a non-200 answer: JSON-2's error object when there is
// one, else the status alone (401 bad key, 403 access, 404 unknown, 422
// refused).
func (c *Client) statusError(model, method string, resp *response) error {
	if p, ok := decodePayload(resp.data); ok {
		return c.fromPayload(model, method, p, resp.status)
	}
	e := &Error{System: c.system, Model: model, Method: method, HTTPStatus: resp.status,
		Message: fmt.Sprintf("HTTP %d %s", resp.status, http.StatusText(resp.status)), Attempts: resp.attempts}
	switch resp.status {
	case http.StatusUnauthorized:
		e.Kind = KindAuth
	case http.StatusForbidden:
		e.Kind = KindAccess
	case http.StatusNotFound:
		e.Kind = KindNotFound
	case http.StatusUnprocessableEntity:
		e.Kind = KindUser
	default:
		e.Kind = KindUnavailable
	}
	e.Hint = c.hint(e)
	return e
}

func userAgent() string { return "finrecon/" + version.Version }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
