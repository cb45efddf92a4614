package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

const (
	urlSecret  = "zedge-test-url-signing-secret-0123456789"
	jwtSecret  = "zedge-test-jwt-hs256-secret-0123456789abcdef"
	otherProj  = "proj-2"
	shareQueue = "telemetry-b1"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaPEM  []byte // the public key, PKIX PEM
)

func testRSA(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		rsaKey, rsaPEM = k, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	})
	return rsaKey, rsaPEM
}

// authEnv is a harness whose server has a Guard, with the keys and the revocation list it was built from.
type authEnv struct {
	*harness
	guard   *Guard
	ring    *signing.KeyRing
	signer  *signing.TokenSigner
	revoked *revoke.List
	revFile string
}

type authOpts struct {
	mode      string
	noURLKey  bool
	adminMode bool
	withRSA   bool   // also verify RS256 tokens under kid "rsa"
	revFile   string // reuse a revocation file (a restart); "" makes a new one
}

func newAuthEnv(t *testing.T, o authOpts) *authEnv {
	t.Helper()
	if o.mode == "" {
		o.mode = AuthNone
	}
	sc := signing.DefaultConfig()
	if !o.noURLKey {
		sc.URLKeys = []signing.SecretKeyConfig{{ID: "k1", Secret: urlSecret}}
	}
	sc.Token.Secrets = []signing.SecretKeyConfig{{ID: "hs1", Secret: jwtSecret}}
	sc.Token.SigningKey = "hs1"
	if o.withRSA {
		_, pub := testRSA(t)
		sc.Token.PublicKeys = []signing.PEMKeyConfig{{ID: "rsa", PEM: signing.Secret(pub)}}
	}
	ac := DefaultAuthConfig()
	ac.Mode = o.mode
	ac.Revocations.File = o.revFile
	if ac.Revocations.File == "" {
		ac.Revocations.File = filepath.Join(t.TempDir(), revoke.DefaultFileName)
	}
	ac.Revocations.PollInterval = 20 * time.Millisecond
	list, err := revoke.Open(ac.Revocations, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { list.Close() })
	g, err := NewGuard(ac, sc, list, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpt{cfg: func(c *Config) { c.AdminMode = o.adminMode }, opts: []Option{WithGuard(g)}})
	ring, _ := sc.KeyRing()
	signer, _ := sc.TokenSigner()
	return &authEnv{harness: h, guard: g, ring: ring, signer: signer, revoked: list, revFile: ac.Revocations.File}
}

// token issues a token valid for an hour from the harness clock's now.
func (e *authEnv) token(t *testing.T, sub, project string, roles ...string) string {
	t.Helper()
	c, err := signing.NewClaims(sub, project, roles, e.clock.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return e.issue(t, c)
}

func (e *authEnv) issue(t *testing.T, c signing.Claims) string {
	t.Helper()
	tok, err := signing.IssueToken(e.signer, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// share asks the server for a signed URL and decodes the answer.
func (e *authEnv) share(t *testing.T, queue, body string, headers ...hd) signing.SignedURL {
	t.Helper()
	r := e.do("POST", "/v2/queues/"+queue+"/share", body, headers...)
	expect(t, r, 200, "*")
	var out struct {
		Paths, Methods   []string
		Project, Expires string
		Signature        string
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(signing.ExpiresLayout, out.Expires)
	if err != nil {
		t.Fatal(err)
	}
	return signing.SignedURL{URLGrant: signing.URLGrant{Paths: out.Paths, Methods: out.Methods, Project: out.Project,
		Expires: exp}, Signature: out.Signature}
}

// urlHeaders is the header form of a signed URL's credentials.
func urlHeaders(su signing.SignedURL) hd {
	c := su.Credentials()
	return hd{"URL-Signature": c.Signature, "URL-Expires": c.Expires, "URL-Methods": c.Methods, "URL-Paths": c.Paths}
}

// urlQuery is the query form, with the project parameter when project is not empty.
func urlQuery(su signing.SignedURL, project string) string {
	q := su.Query()
	if project != "" {
		q.Set(QueryProject, project)
	}
	return q.Encode()
}

// stored is the number of live messages in a queue (0 when it does not exist), read from the Service.
func (e *authEnv) stored(t *testing.T, project, queue string) int {
	t.Helper()
	st, err := e.svc.QueueStats(context.Background(), project, queue)
	if errors.Is(err, broker.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Total
}

func (e *authEnv) count(name string) uint64 { return e.guard.Counters()[name] }

func merge(hs ...hd) hd {
	out := hd{}
	for _, h := range hs {
		for k, v := range h {
			out[k] = v
		}
	}
	return out
}

func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	if strings.Contains(path, "?") {
		return path + "&" + query
	}
	return path + "?" + query
}
