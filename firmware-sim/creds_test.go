package firmwaresim

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
)

func TestLocallySignedReadingsURLVerifies(t *testing.T) {
	const key = "a-url-signing-key"
	c, err := newCredentials(Options{SigningKey: key, JWTSecret: strings.Repeat("s", 32)}, "campus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.readingsURL(context.Background(), &restClient{base: "http://127.0.0.1:1"}, "b2")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Path != "/v2/queues/readings-b2/messages" || u.Query().Get("project") != "campus" {
		t.Fatalf("url %s: %v", raw, err)
	}
	creds, err := signing.CredentialsFromValues(u.Query())
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := signing.NewKeyRing(signing.URLKey{ID: "k", Secret: []byte(key)})
	req := signing.SignedRequest{Credentials: creds, Method: "POST", Path: u.Path, Project: "campus"}
	if _, err := signing.VerifyRequest(ring, req, time.Now()); err != nil {
		t.Errorf("zedge would refuse the sensors' URL: %v", err)
	}
	req.Method = "GET"
	if _, err := signing.VerifyRequest(ring, req, time.Now()); err == nil {
		t.Error("the URL grants more than POST")
	}

	// Device tokens carry the device id as subject and the device role.
	tok, err := c.token("b2-f1-o1-ac1", signing.RoleDevice)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := signing.NewTokenKeys(signing.HS256Key("default", []byte(strings.Repeat("s", 32))))
	cl, err := signing.VerifyToken(keys, tok, time.Now(), time.Minute)
	if err != nil || cl.Subject != "b2-f1-o1-ac1" || !cl.IsDevice() || cl.ProjectID != "campus" {
		t.Errorf("token claims %+v: %v", cl, err)
	}
	// Without a secret (auth none) there are no tokens.
	none, _ := newCredentials(Options{}, "campus", time.Hour)
	if tok, err := none.token("x", signing.RoleDevice); tok != "" || err != nil {
		t.Errorf("auth none token %q %v", tok, err)
	}
}
