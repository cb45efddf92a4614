package wsapi

import (
	"bufio"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/internal/zedgetest"
)

// An upgrade request the HTTP parser cannot read is logged at debug level without its contents: fasthttp
// quotes the request buffer in its errors unless told not to, and the request may carry a token.
func TestMalformedUpgradeSecretsNotLogged(t *testing.T) {
	var buf zedgetest.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, envOption{log: log})
	const tok = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(e.url, "ws://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Auth-Token: " + tok +
		"\r\nAuthorization: Bearer " + tok + "\r\nMissing Colon\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, " 400 ") {
		t.Fatalf("malformed upgrade answered %q (%v)", status, err)
	}
	// The server logs the failure after answering.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "error when reading request headers"); {
		if time.Now().After(deadline) {
			t.Fatalf("the parse error was not logged:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out := buf.String(); strings.Contains(out, tok) {
		t.Fatalf("log holds the token:\n%s", out)
	}
}
