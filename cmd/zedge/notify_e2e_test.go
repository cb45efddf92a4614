package main

// End-to-end tests of notification delivery against the real binary: a webhook receiver and a small SMTP
// server in the test process, subscriptions made over REST, the confirmation flow with the signed confirm
// URL, and retries after 503s.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver records webhook POSTs; failFirst makes the first n notifications (not confirmations) get 503.
type hookReceiver struct {
	mu        sync.Mutex
	bodies    []string
	failFirst int
	srv       *httptest.Server
}

func newHookReceiver(t *testing.T, failFirst int) *hookReceiver {
	h := &hookReceiver{failFirst: failFirst}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(b))
		fail := false
		if strings.Contains(string(b), `"Message_Type": "Notification"`) && h.failFirst > 0 {
			h.failFirst--
			fail = true
		}
		h.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// await waits until the receiver holds n bodies (the bound only keeps a broken build from hanging).
func (h *hookReceiver) await(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(h.all()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("webhook received %d POSTs, waited for %d: %q", len(h.all()), n, h.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h.all()
}

// confirm PUTs the confirm path with the signed URL of a confirmation notification.
func confirm(t *testing.T, c *client, confirmation string) {
	t.Helper()
	var n map[string]any
	if err := json.Unmarshal([]byte(confirmation), &n); err != nil || n["Message_Type"] != "SubscriptionConfirmation" {
		t.Fatalf("not a confirmation: %s", confirmation)
	}
	c.do("PUT", n["URL-Paths"].(string), map[string]any{"confirmed": true},
		"URL-Signature: "+n["URL-Signature"].(string), "URL-Expires: "+n["URL-Expires"].(string),
		"URL-Methods: "+n["URL-Methods"].(string), "URL-Paths: "+n["URL-Paths"].(string),
		"X-Project-ID: "+n["X-Project-ID"].(string)).expect(t, 204)
}

func TestNotificationsE2E(t *testing.T) {
	t.Parallel()
	mail := newTestSMTP(t)
	_, port, _ := net.SplitHostPort(mail.ln.Addr().String())
	s := startServer(t, serverOptions{
		env: []string{"ZEDGE_SIGNING_KEY=e2e-url-signing-key-of-32-bytes!!"},
		config: `
notify:
  require_confirmation: true
  smtp:
    host: 127.0.0.1
    port: ` + port + `
    tls: none
`})
	c := newClient(t, s, "notify-proj")

	// A webhook subscription is sent the confirmation; once confirmed through the signed URL it gets the
	// notifications (that it gets nothing before is tested in broker/notify, where the delivery queue can be
	// observed).
	hook := newHookReceiver(t, 0)
	c.do("POST", "/v2/queues/sq/subscriptions", map[string]any{"subscriber": hook.srv.URL + "/hook", "ttl": 3600,
		"options": map[string]any{"post_headers": map[string]any{"X-Custom": "abc"}}}).expect(t, 201)
	got := hook.await(t, 1)
	confirm(t, c, got[0])
	c.post("sq", map[string]any{"body": map[string]any{"event": "BackupStarted"}, "ttl": 300})
	got = hook.await(t, 2)
	if want := `{"ttl": 300, "body": {"event": "BackupStarted"}, "Message_Type": "Notification", "queue_name": "sq"}`; got[1] != want {
		t.Errorf("webhook payload:\n got %s\nwant %s", got[1], want)
	}

	// A subscriber answering 503 twice gets the notification again, immediately, until it takes it.
	flaky := newHookReceiver(t, 2)
	c.do("POST", "/v2/queues/fq/subscriptions", map[string]any{"subscriber": flaky.srv.URL}).expect(t, 201)
	confirm(t, c, flaky.await(t, 1)[0])
	c.post("fq", map[string]any{"body": "retry me", "ttl": 300})
	got = flaky.await(t, 4)
	if got[1] != got[2] || got[2] != got[3] || !strings.Contains(got[3], `"body": "retry me"`) {
		t.Errorf("retries: %q", got)
	}

	// Email: the confirmation arrives by mail, then the notification.
	c.do("POST", "/v2/queues/mq/subscriptions", map[string]any{"subscriber": "mailto:ops@example.com?subject=Climate",
		"options": map[string]any{"from": "zedge@example.com"}}).expect(t, 201)
	confirm(t, c, mail.await(t, 1)[0])
	c.post("mq", map[string]any{"body": map[string]any{"temp": 31}, "ttl": 120})
	bodies := mail.await(t, 2)
	if want := `{"ttl": 120, "body": {"temp": 31}, "Message_Type": "Notification", "queue_name": "mq"}`; bodies[1] != want {
		t.Errorf("email body:\n got %s\nwant %s", bodies[1], want)
	}
}

// testSMTP is a minimal SMTP server keeping the decoded bodies of the mails it receives.
type testSMTP struct {
	ln     net.Listener
	mu     sync.Mutex
	bodies []string
}

func newTestSMTP(t *testing.T) *testSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testSMTP{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *testSMTP) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-test")
			say("250 8BITMIME")
		case cmd == "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			raw := data.String()
			body, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(raw[strings.Index(raw, "\r\n\r\n")+4:])))
			s.mu.Lock()
			s.bodies = append(s.bodies, strings.TrimSpace(string(body)))
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default: // HELO, MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

func (s *testSMTP) await(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		got := append([]string(nil), s.bodies...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server received %d mails, waited for %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
