package odootest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testdata = "../testdata"

// TestAnswersLikeTheRecordedServer sends the recorded requests to the fake
// and checks it answers what the real server answered: the same records
// (as a set: the lab's Odoo broke write_date ties by microseconds the
// answers do not show), the same errors. Left out: counts over the whole
// database (13, 40–41c, j02, j14: the lab recorded counts, not the records
// counted), creates and writes (28, 32, 33*: new ids), and JSON-2's
// argument checks (j09*) and fields_get attributes (j12), which the fake
// does not model; 99* (run last on purpose, they change a paid invoice) and
// i* (the import wizard experiment), whose records the fake leaves out;
// j16, action_post, which finrecon never calls;
// 14b, whose records' state the lab recorded for some moves only (it is
// checked on 17, where it was).
func TestAnswersLikeTheRecordedServer(t *testing.T) {
	skip := []string{"13_", "40_", "41", "j02", "j14", "28_", "32", "33", "j04", "j15", "j09", "j12", "24", "35", "31b", "j19", "99", "i0", "14b", "j16_"}
	for _, version := range []string{"17.0", "18.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			s := New(t, testdata, version)
			exs, err := loadExchanges(testdata + "/recorded/" + version)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, ex := range exs {
				if !replayable(ex, skip) {
					continue
				}
				checked++
				t.Run(ex.Name, func(t *testing.T) {
					status, got := replay(t, s, ex)
					if status != ex.HTTPStatus {
						t.Errorf("HTTP %d, recorded %d", status, ex.HTTPStatus)
					}
					want := normalise(t, ex.Response.Body)
					if diff := cmp.Diff(want, normalise(t, got)); diff != "" {
						t.Errorf("answer differs from the recording (-recorded +fake):\n%s", diff)
					}
				})
			}
			if checked < 25 {
				t.Errorf("only %d recordings checked", checked)
			}
		})
	}
}

// replayable says whether a recording is a call the fake answers as
// recorded.
func replayable(ex *exchange, skip []string) bool {
	if ex.Protocol != "jsonrpc" && ex.Protocol != "json2" {
		return false
	}
	for _, p := range skip {
		if strings.HasPrefix(ex.file, p) {
			return false
		}
	}
	if ex.Protocol == "jsonrpc" {
		c, ok := ex.rpcCall()
		return ok && (c.service == "object" || c.method == "version" || c.method == "authenticate" || c.method == "login")
	}
	return ex.Request.Method == http.MethodPost || ex.file == "j00_web_version_get.json"
}

// replay sends a recorded request with the fake's keys in place of the
// recording's REDACTED: the limited user's where the recording used its
// uid (files 34, 42) or its key (j08), the admin's elsewhere.
func replay(t *testing.T, s *Server, ex *exchange) (int, []byte) {
	t.Helper()
	if ex.Request.Method == http.MethodGet {
		res, err := http.Get(s.URL + ex.Request.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return res.StatusCode, data
	}
	key := AdminKey
	body := []byte(ex.Request.Body)
	if ex.Protocol == "jsonrpc" {
		var req map[string]any
		if err := decode(body, &req); err != nil {
			t.Fatal(err)
		}
		params, _ := req["params"].(map[string]any)
		args, _ := params["args"].([]any)
		if params["service"] == "object" {
			if uid, _ := intOf(args[1]); uid == s.limitedUID {
				key = LimitedKey
			}
		}
		if len(args) > 2 && args[2] == "REDACTED" {
			args[2] = key
		}
		body, _ = json.Marshal(req)
	} else if strings.HasPrefix(ex.file, "j08") {
		key = LimitedKey
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+ex.Request.Path, bytes.NewReader(body))
	for k, v := range ex.Request.Headers {
		req.Header.Set(k, strings.ReplaceAll(v, "REDACTED", key))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// normalise decodes an answer, drops the JSON-RPC id, and sorts lists of
// records by id.
func normalise(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := decode(raw, &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "id")
		if list, ok := m["result"].([]any); ok {
			m["result"] = sortByID(list)
		}
	}
	if list, ok := v.([]any); ok {
		v = sortByID(list)
	}
	return v
}

func sortByID(list []any) []any {
	sort.SliceStable(list, func(i, j int) bool {
		a, _ := list[i].(map[string]any)
		b, _ := list[j].(map[string]any)
		x, _ := intOf(a["id"])
		y, _ := intOf(b["id"])
		return x < y
	})
	return list
}
