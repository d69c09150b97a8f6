// Package odootest is an Odoo server for tests, made from the exchanges
// recorded against real Odoo 17.0, 18.0 and 19.0 servers
// (internal/odoo/testdata/recorded; see its INDEX.md files).
//
// It does not replay the recordings request by request — finrecon pages by
// id and asks for its own fields, which the lab did not — but answers like
// the recorded server would:
//
//   - its database is the union of the records the recorded search_read and
//     read calls returned, plus, from testdata/supplement/<version>.json,
//     the few the lab did not capture (each with the evidence for it) and
//     the stored related fields Odoo derives (a journal item's journal,
//     number and write date are its move's);
//   - search_read, search, search_count, read and fields_get are evaluated
//     on it (domains in Polish notation, order, limit, offset);
//   - create of account.move adds a draft, and refuses an unbalanced one
//     with the recorded error;
//   - version and authenticate answer as recorded, and every failure is the
//     recorded error body: a bad key (files 09, j06, j07), a user without
//     accounting rights (34, j08), an unauthorized company (42), an unknown
//     model (37, j10), an unknown field (38, j18; other fields get the same
//     message with their own name), an unbalanced entry (31, j05).
//
// Faults (502, 429 with Retry-After, slow answers, connections dropped mid
// answer, a create that commits and then loses its answer) are injected
// with Inject. Every HTTP request is counted and every call logged.
package odootest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials the server accepts. The keys are 40 hex characters, like
// Odoo's.
const (
	AdminLogin   = "admin"
	AdminKey     = "5e3f1c0a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f"
	LimitedLogin = "limited"
	LimitedKey   = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
	adminUID     = 2
)

// Call is one call the server handled.
type Call struct {
	Protocol string // jsonrpc, json2 or web
	Service  string // common or object
	Model    string
	Method   string
	// Args are the call's arguments by name (JSON-2's names; execute_kw's
	// positional ones are named the same way).
	Args map[string]any
	// Companies is the context's allowed_company_ids.
	Companies []int64
	UID       int64
}

// Server is a running fake Odoo.
type Server struct {
	URL     string
	Version string // "17.0"
	Major   int
	DB      string

	srv        *httptest.Server
	mu         sync.Mutex
	db         *database
	templates  map[string]*exchange
	limitedUID int64
	version    json.RawMessage
	calls      []Call
	requests   int
	faults     []*Fault
}

// New starts a server answering as the recorded Odoo version ("17.0",
// "18.0" or "19.0"), from testdata, the folder holding recorded/ and
// supplement/. It is closed when the test ends.
func New(t interface {
	Helper()
	Fatalf(string, ...any)
	Cleanup(func())
}, testdata, version string) *Server {
	t.Helper()
	s, err := Start(testdata, version)
	if err != nil {
		t.Fatalf("odootest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server; the caller closes it.
func Start(testdata, version string) (*Server, error) {
	exs, err := loadExchanges(filepath.Join(testdata, "recorded", version))
	if err != nil {
		return nil, err
	}
	s := &Server{Version: version, templates: map[string]*exchange{}}
	s.Major, _ = strconv.Atoi(strings.Split(version, ".")[0])
	for _, ex := range exs {
		s.templates[strings.TrimSuffix(ex.file, ".json")] = ex
	}
	if err := s.learn(exs); err != nil {
		return nil, err
	}
	if s.db, err = harvest(exs, s.Major); err != nil {
		return nil, err
	}
	if err := s.db.supplement(filepath.Join(testdata, "supplement", version+".json")); err != nil {
		return nil, err
	}
	s.db.derive()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s, nil
}

// learn reads what the recordings say about the server itself: its
// version, database name and the limited user's uid.
func (s *Server) learn(exs []*exchange) error {
	for _, ex := range exs {
		c, ok := ex.rpcCall()
		if !ok {
			continue
		}
		result, _ := ex.rpcResult()
		switch {
		case c.service == "common" && c.method == "version":
			s.version = result
		case strings.HasPrefix(ex.file, "34_"):
			s.limitedUID = c.uid
		}
		if s.DB == "" && c.service == "object" {
			var b rpcBody
			var p rpcParams
			decode(ex.Request.Body, &b)
			decode(b.Params, &p)
			s.DB, _ = p.Args[0].(string)
		}
	}
	if s.version == nil || s.limitedUID == 0 || s.DB == "" {
		return fmt.Errorf("odootest: recordings of %s lack the version (01), the limited user (34) or a database name", s.Version)
	}
	return nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Calls returns the calls handled so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Requests counts every HTTP request received, faulted ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// CallsTo returns the calls of model.method.
func (s *Server) CallsTo(model, method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Model == model && c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Set changes a field of a record, creating the record if needed, as a
// write in Odoo would.
func (s *Server) Set(model string, id int64, field string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.db.set(model, id, field, value)
}

// Delete removes a record, as unlink would.
func (s *Server) Delete(model string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.db.records[model], id)
}

// Record returns a copy of a record, or nil.
func (s *Server) Record(model string, id int64) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.db.records[model][id]
	if r == nil {
		return nil
	}
	cp := map[string]any{}
	for k, v := range r {
		cp[k] = v
	}
	return cp
}

// Find returns the ids of model's records whose field equals value (as
// text), sorted.
func (s *Server) Find(model, field, value string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for id, r := range s.db.records[model] {
		if fmt.Sprint(scalar(r[field])) == value {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Fault makes matching calls fail.
type Fault struct {
	// Match selects the calls the fault applies to; nil matches all.
	Match func(Call) bool
	// After lets that many matching calls through before failing.
	After int
	// Times is how many matching calls fail; 0 means one.
	Times int
	// Status answers this HTTP status with a short text body, with
	// RetryAfter as the Retry-After header if set.
	Status     int
	RetryAfter string
	// Delay waits this long before answering (a slow server or network).
	Delay time.Duration
	// Drop sends the start of an answer and closes the connection.
	Drop bool
	// Apply handles the call first (a create commits), then fails: Odoo
	// did the work and the answer was lost.
	Apply bool
	// EchoKey answers a UserError quoting the credentials the request
	// carried, as a careless proxy or module might: what finrecon shows of
	// it must be scrubbed.
	EchoKey bool

	seen, fired int
}

// Inject adds a fault.
func (s *Server) Inject(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Fired reports how many times f hit.
func (s *Server) Fired(f *Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f.fired
}

// OnMethod matches calls of model.method ("" matches any).
func OnMethod(model, method string) func(Call) bool {
	return func(c Call) bool {
		return (model == "" || c.Model == model) && (method == "" || c.Method == method)
	}
}

// fault returns the fault that hits call c, if any.
func (s *Server) fault(c Call) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Match != nil && !f.Match(c) {
			continue
		}
		f.seen++
		times := max(f.Times, 1)
		if f.seen > f.After && f.fired < times {
			f.fired++
			return f
		}
	}
	return nil
}

// answer is what the server sends back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	var (
		c   Call
		ans func() answer
	)
	switch {
	case r.URL.Path == "/jsonrpc" && r.Method == http.MethodPost:
		c, ans = s.jsonrpc(body)
	case strings.HasPrefix(r.URL.Path, "/json/2/") && r.Method == http.MethodPost:
		c, ans = s.json2(r, body)
	case r.URL.Path == "/web/version":
		c, ans = Call{Protocol: "web", Method: "version"}, s.webVersion
	default:
		http.NotFound(w, r)
		return
	}
	f := s.fault(c)
	if f != nil && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case f != nil && f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	case f != nil && f.EchoKey:
		secret := r.Header.Get("Authorization")
		var b rpcBody
		var p rpcParams
		if decode(body, &b) == nil && decode(b.Params, &p) == nil && len(p.Args) > 2 {
			secret = fmt.Sprint(p.Args[2])
		}
		echo := s.synthError(s.rpcError("37_unknown_model"), "you sent "+secret, "odoo.exceptions.UserError")
		if c.Protocol == "json2" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			w.Write(s.errData(echo))
			return
		}
		out, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": b.ID, "error": echo})
		w.Write(out)
		return
	case f != nil && f.Drop:
		if f.Apply {
			s.record(c)
			ans() // the work is done; its answer never arrives
		}
		drop(w)
		return
	}
	s.record(c)
	a := ans()
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// drop answers a status line and half a body, then closes the connection.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("odootest: cannot hijack the connection")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 4096\r\n\r\n")
	fmt.Fprint(buf, `{"jsonrpc": "2.0", "id": 1, "result": [{"id": 1, "name": "INV/20`)
	buf.Flush()
}

func (s *Server) webVersion() answer {
	if ex := s.templates["j00_web_version_get"]; ex != nil {
		return answer{status: http.StatusOK, body: ex.Response.Body}
	}
	var v struct {
		Info  []any  `json:"server_version_info"`
		Serie string `json:"server_serie"`
	}
	decode(s.version, &v)
	body, _ := json.Marshal(map[string]any{"version_info": v.Info, "version": v.Serie})
	return answer{status: http.StatusOK, body: body}
}

// jsonrpc handles POST /jsonrpc.
func (s *Server) jsonrpc(body []byte) (Call, func() answer) {
	var b rpcBody
	var p rpcParams
	if decode(body, &b) != nil || decode(b.Params, &p) != nil {
		return Call{Protocol: "jsonrpc"}, func() answer { return answer{status: http.StatusBadRequest, body: []byte("bad request")} }
	}
	reply := func(result any, errObj json.RawMessage) answer {
		env := map[string]any{"jsonrpc": "2.0", "id": b.ID}
		if errObj != nil {
			env["error"] = errObj
		} else {
			env["result"] = result
		}
		out, _ := json.Marshal(env)
		return answer{status: http.StatusOK, body: out}
	}
	if p.Service == "common" {
		c := Call{Protocol: "jsonrpc", Service: "common", Method: p.Method}
		return c, func() answer { return reply(s.common(p.Method, p.Args), nil) }
	}
	rc, err := executeKW(p.Args)
	if err != nil || p.Service != "object" || p.Method != "execute_kw" {
		return Call{Protocol: "jsonrpc", Service: p.Service, Method: p.Method}, func() answer {
			return reply(nil, s.rpcError("37_unknown_model"))
		}
	}
	c := Call{Protocol: "jsonrpc", Service: "object", Model: rc.model, Method: rc.method, Args: rc.named,
		Companies: companiesOf(rc.named), UID: rc.uid}
	key, _ := p.Args[2].(string)
	return c, func() answer {
		uid, ok := s.user(rc.uid, key)
		if !ok {
			return reply(nil, s.rpcError("09_execute_kw_bad_password"))
		}
		res, fail := s.execute(uid, c)
		if fail != "" {
			return reply(nil, s.rpcErrorFor(fail, c))
		}
		return reply(res, nil)
	}
}

// common answers the common service.
func (s *Server) common(method string, args []any) any {
	switch method {
	case "version":
		return s.version
	case "authenticate", "login":
		if len(args) < 3 {
			return false
		}
		login, _ := args[1].(string)
		key, _ := args[2].(string)
		switch {
		case login == AdminLogin && key == AdminKey:
			return adminUID
		case login == LimitedLogin && key == LimitedKey:
			return s.limitedUID
		}
	}
	return false
}

// user checks execute_kw's uid and key.
func (s *Server) user(uid int64, key string) (int64, bool) {
	switch {
	case uid == adminUID && key == AdminKey:
		return uid, true
	case uid == s.limitedUID && key == LimitedKey:
		return uid, true
	}
	return 0, false
}

// json2 handles POST /json/2/<model>/<method>, Odoo 19's API.
func (s *Server) json2(r *http.Request, body []byte) (Call, func() answer) {
	model, method, _ := json2Path(r.URL.Path)
	var named map[string]any
	if len(body) > 0 && decode(body, &named) != nil {
		named = nil
	}
	c := Call{Protocol: "json2", Service: "object", Model: model, Method: method, Args: named, Companies: companiesOf(named)}
	return c, func() answer {
		if s.Major < 19 {
			return answer{status: http.StatusNotFound, header: http.Header{"Content-Type": {"text/html"}}, body: []byte("<h1>Not Found</h1>")}
		}
		auth := r.Header.Get("Authorization")
		scheme, key, _ := strings.Cut(auth, " ")
		if auth == "" || !strings.EqualFold(scheme, "bearer") {
			return s.json2Error("j07_json2_missing_authorization")
		}
		var uid int64
		switch key {
		case AdminKey:
			uid = adminUID
		case LimitedKey:
			uid = s.limitedUID
		default:
			return s.json2Error("j06_json2_bad_api_key")
		}
		res, fail := s.execute(uid, c)
		if fail != "" {
			return s.json2ErrorFor(fail, c)
		}
		out, _ := json.Marshal(res)
		return answer{status: http.StatusOK, body: out}
	}
}

// companiesOf reads the context's allowed_company_ids.
func companiesOf(named map[string]any) []int64 {
	ctx, _ := named["context"].(map[string]any)
	list, _ := ctx["allowed_company_ids"].([]any)
	var out []int64
	for _, v := range list {
		if n, ok := v.(json.Number); ok {
			id, _ := n.Int64()
			out = append(out, id)
		}
	}
	return out
}

// rpcError is the recorded JSON-RPC error object of a recording.
func (s *Server) rpcError(name string) json.RawMessage {
	ex := s.templates[name]
	if ex == nil {
		panic("odootest: no recording " + name)
	}
	_, errObj := ex.rpcResult()
	return errObj
}

// json2Error is a recorded JSON-2 error answer.
func (s *Server) json2Error(name string) answer {
	ex := s.templates[name]
	if ex == nil {
		panic("odootest: no recording " + name)
	}
	h := http.Header{}
	for _, kv := range ex.Response.Headers {
		if len(kv) == 2 {
			h.Add(kv[0], kv[1])
		}
	}
	return answer{status: ex.HTTPStatus, header: h, body: ex.Response.Body}
}

// failure names what went wrong in execute, and the field for unknown
// fields ("field:<model>:<name>").
type failure = string

const (
	failAccess     failure = "access"
	failCompany    failure = "company"
	failModel      failure = "model"
	failUnbalanced failure = "unbalanced"
	failMethod     failure = "method"
	failPrivate    failure = "private"
)

// rpcErrorFor is the JSON-RPC error object of a failure.
func (s *Server) rpcErrorFor(f failure, c Call) json.RawMessage {
	switch f {
	case failAccess:
		return s.rpcError("34_access_error_limited_user")
	case failCompany:
		return s.rpcError("42_unauthorized_company")
	case failModel:
		return s.rpcError("37_unknown_model")
	case failUnbalanced:
		return s.rpcError("31_create_draft_entry_unbalanced")
	case failMethod:
		return s.synthError(s.rpcError("37_unknown_model"), fmt.Sprintf("The method '%s' does not exist on the model '%s'", c.Method, c.Model), "builtins.AttributeError")
	case failPrivate:
		return s.rpcError("39_private_method")
	}
	model, field := fieldOf(f)
	if strings.HasPrefix(f, "leaf:") {
		recorded := s.rpcError("39b_invalid_domain_field")
		if strings.Contains(string(recorded), model+"."+field+" ") {
			return recorded
		}
		return s.synthError(recorded, fmt.Sprintf("Invalid field %s.%s in leaf", model, field), "")
	}
	recorded := s.rpcError("38_invalid_field")
	if s.recordedField(recorded) == model+"."+field {
		return recorded
	}
	return s.synthError(recorded, s.fieldMessage(model, field), "")
}

// json2ErrorFor is the JSON-2 answer of a failure.
func (s *Server) json2ErrorFor(f failure, c Call) answer {
	switch f {
	case failAccess:
		return s.json2Error("j08_json2_access_error_limited_user")
	case failCompany:
		// Not recorded over JSON-2: the JSON-RPC error's data, with the
		// status JSON-2 gives an AccessError (j08).
		return answer{status: http.StatusForbidden, body: s.errData(s.rpcError("42_unauthorized_company"))}
	case failModel:
		return s.json2Error("j10_json2_unknown_model")
	case failUnbalanced:
		return s.json2Error("j05_json2_create_unbalanced")
	case failMethod:
		return s.json2Error("j11_json2_unknown_method")
	case failPrivate:
		return s.json2Error("j17_json2_private_method")
	}
	model, field := fieldOf(f)
	if strings.HasPrefix(f, "leaf:") {
		a := s.json2Error("j18_json2_invalid_field")
		a.body = s.errData(s.synthError(s.rpcError("39b_invalid_domain_field"), fmt.Sprintf("Invalid field %s.%s in condition", model, field), ""))
		return a
	}
	a := s.json2Error("j18_json2_invalid_field")
	if s.recordedFieldJSON2(a.body) != model+"."+field {
		a.body = s.errData(s.synthError(s.rpcError("38_invalid_field"), s.fieldMessage(model, field), ""))
	}
	return a
}

// fieldMessage is the version's wording of an unknown field (files 38).
func (s *Server) fieldMessage(model, field string) string {
	if s.Major >= 19 {
		return fmt.Sprintf("Invalid field '%s' on '%s'", field, model)
	}
	return fmt.Sprintf("Invalid field '%s' on model '%s'", field, model)
}

// recordedField is the model.field a recorded unknown-field error is about.
func (s *Server) recordedField(errObj json.RawMessage) string {
	return s.recordedFieldJSON2(s.errData(errObj))
}

func (s *Server) recordedFieldJSON2(data []byte) string {
	var d struct {
		Message string `json:"message"`
	}
	decode(data, &d)
	m := recordedFieldRE.FindStringSubmatch(d.Message)
	if m == nil {
		return ""
	}
	return m[2] + "." + m[1]
}

var recordedFieldRE = regexp.MustCompile(`Invalid field '([^']+)' on (?:model )?'([^']+)'`)

// errData is the data of a JSON-RPC error object.
func (s *Server) errData(errObj json.RawMessage) []byte {
	var e struct {
		Data json.RawMessage `json:"data"`
	}
	decode(errObj, &e)
	return e.Data
}

// synthError is a recorded error object with another message (and
// exception name), for failures the lab recorded once.
func (s *Server) synthError(template json.RawMessage, message, name string) json.RawMessage {
	var e map[string]any
	decode(template, &e)
	data, _ := e["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	data["message"] = message
	data["arguments"] = []any{message}
	if name != "" {
		data["name"] = name
	}
	data["debug"] = "Traceback (most recent call last):\n  ... (synthesised by odootest from a recorded error)\n" + message + "\n"
	e["data"] = data
	out, _ := json.Marshal(e)
	return out
}

func fieldOf(f failure) (string, string) {
	parts := strings.SplitN(f, ":", 3)
	if len(parts) != 3 {
		return "", ""
	}
	return parts[1], parts[2]
}
