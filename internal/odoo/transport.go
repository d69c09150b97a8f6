package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Retry bounds: the longest wait between two attempts, and the longest
// Retry-After finrecon honours before giving up (a nightly job should fail
// and say so rather than sleep for an hour).
const (
	maxBackoff    = 30 * time.Second
	maxRetryAfter = 2 * time.Minute
	// maxBody bounds an answer read into memory; a page of records is far
	// smaller.
	maxBody = 512 << 20
)

// request is one HTTP exchange with the server.
type request struct {
	model, method string // for errors and logs
	httpMethod    string
	path          string
	body          []byte
	bearer        bool // JSON-2: the key goes in Authorization
	// unsafe marks a write: it is retried only when it certainly did not
	// reach Odoo (connection refused, 429).
	unsafe bool
}

// response is an answer whose body was read in full.
type response struct {
	status   int
	data     []byte
	header   http.Header
	attempts int
}

// failure is one attempt's transient failure.
type failure struct {
	err error
	// status is the HTTP status, 0 for a transport error.
	status int
	// wait is the server's Retry-After, when it gave one.
	wait time.Duration
	// sent: the request may have reached the server.
	sent bool
}

// roundTrip sends req, retrying transient failures — timeouts, refused or
// dropped connections, an answer cut short, 429 and 5xx without an Odoo
// error in them — with exponential backoff and jitter, at most c.attempts
// times in all. A write is retried only when it cannot have been applied.
func (c *Client) roundTrip(ctx context.Context, req request) (*response, error) {
	var last failure
	for attempt := 1; ; attempt++ {
		start := time.Now()
		resp, f := c.attempt(ctx, req)
		c.log.Debug("odoo call", "model", req.model, "method", req.method, "attempt", attempt,
			"status", statusOf(resp, f), "duration", time.Since(start).Round(time.Millisecond))
		if f == nil {
			resp.attempts = attempt
			return resp, nil
		}
		last = *f
		if ctx.Err() != nil {
			return nil, c.unavailable(req, attempt, last, ctx.Err())
		}
		retryable := !req.unsafe || !last.sent || last.status == http.StatusTooManyRequests
		if !retryable || attempt >= c.attempts {
			return nil, c.unavailable(req, attempt, last, nil)
		}
		wait := c.backoff(attempt)
		if last.wait > 0 {
			if last.wait > maxRetryAfter {
				return nil, c.unavailable(req, attempt, last, fmt.Errorf("the server asks to wait %s (Retry-After), more than the %s finrecon waits: try later", last.wait, maxRetryAfter))
			}
			wait = last.wait
		}
		c.log.Warn("odoo call failed, retrying", "model", req.model, "method", req.method,
			"attempt", attempt, "of", c.attempts, "wait", wait.Round(time.Millisecond), "error", c.redact.text(last.err.Error()))
		if err := c.sleep(ctx, wait); err != nil {
			return nil, c.unavailable(req, attempt, last, err)
		}
	}
}

// attempt makes one try. It returns the response, or the failure when the
// try should count as transient.
func (c *Client) attempt(ctx context.Context, req request) (*response, *failure) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(actx, req.httpMethod, c.url+req.path, bytes.NewReader(req.body))
	if err != nil {
		return nil, &failure{err: err}
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", userAgent())
	if req.bearer {
		hr.Header.Set("Authorization", "bearer "+c.key.Reveal())
		if c.db != "" {
			hr.Header.Set("X-Odoo-Database", c.db)
		}
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return nil, &failure{err: err, sent: !isDialError(err)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		// A connection dropped mid-answer: the request arrived.
		return nil, &failure{err: fmt.Errorf("reading the answer: %w", err), status: res.StatusCode, sent: true}
	}
	resp := &response{status: res.StatusCode, data: data, header: res.Header}
	if f := transientStatus(resp); f != nil {
		return nil, f
	}
	return resp, nil
}

// transientStatus says whether an answer is worth trying again: 429, a
// gateway's 502/503/504, a 500 that is not an Odoo exception (Odoo's own
// exceptions are deterministic: trying again gives the same error), and a
// 200 whose JSON is cut short.
func transientStatus(r *response) *failure {
	switch {
	case r.status == http.StatusTooManyRequests:
		return &failure{err: errors.New("429 Too Many Requests"), status: r.status, wait: retryAfter(r.header), sent: true}
	case r.status == http.StatusBadGateway || r.status == http.StatusServiceUnavailable || r.status == http.StatusGatewayTimeout:
		return &failure{err: fmt.Errorf("HTTP %d %s", r.status, http.StatusText(r.status)), status: r.status, wait: retryAfter(r.header), sent: true}
	case r.status >= 500:
		if _, ok := decodePayload(r.data); !ok {
			return &failure{err: fmt.Errorf("HTTP %d %s", r.status, http.StatusText(r.status)), status: r.status, sent: true}
		}
	case r.status == http.StatusOK && !json.Valid(r.data):
		return &failure{err: errors.New("the answer is not valid JSON (cut short?)"), status: r.status, sent: true}
	}
	return nil
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// backoff is the wait before attempt n+1: the base delay doubled per
// attempt, capped, with half of it random so that many clients that failed
// together do not come back together.
func (c *Client) backoff(n int) time.Duration {
	d := c.retryDelay << (n - 1)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// unavailable is the error of a call that failed for good.
func (c *Client) unavailable(req request, attempts int, f failure, reason error) error {
	e := &Error{System: c.system, Model: req.model, Method: req.method, Kind: KindUnavailable,
		HTTPStatus: f.status, Attempts: attempts, Message: c.redact.text(f.err.Error()),
		MaybeApplied: req.unsafe && f.sent && f.status != http.StatusTooManyRequests, err: f.err}
	if reason != nil {
		e.Message += "; " + c.redact.text(reason.Error())
		e.err = reason
	}
	e.Hint = fmt.Sprintf("check that %s is up and reachable; a re-run is safe", c.url)
	return e
}

// isDialError reports a failure to connect, before anything was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func statusOf(r *response, f *failure) int {
	if r != nil {
		return r.status
	}
	return f.status
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
