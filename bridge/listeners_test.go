package bridge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/signing"
)

// MQTT over websocket, on the configured path only.
func TestWebSocketListener(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.WebSocket = WebSocketConfig{Addr: "127.0.0.1:0", Path: "/mqtt"} })
	addr := e.b.WebSocketAddr()
	if addr == "" {
		t.Fatal("no websocket address")
	}
	dev := e.v3("s-9", e.token("s-9", signing.RoleDevice), func(o *pahov3.ClientOptions) {
		o.Servers = nil
		o.AddBroker("ws://" + addr + "/mqtt")
	})
	if err := wait(t, dev.Publish("sensors/b2/r1/temp", 1, false, `{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.messages("telemetry-b2")); n != 1 {
		t.Fatalf("stored %d", n)
	}
	resp, err := http.Get("http://" + addr + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %d", resp.StatusCode)
	}
}

// MQTT over TLS.
func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	e := newEnv(t, func(c *Config) { c.TLS = TLSConfig{CertFile: certFile, KeyFile: keyFile} })
	dev := e.v3("s-10", e.token("s-10", signing.RoleDevice), func(o *pahov3.ClientOptions) {
		o.Servers = nil
		o.AddBroker("ssl://" + e.b.Addr())
		o.SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	})
	if err := wait(t, dev.Publish("sensors/b3/r1/temp", 1, false, `{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.messages("telemetry-b3")); n != 1 {
		t.Fatalf("stored %d", n)
	}
	// A plain TCP client gets nowhere.
	if _, err := e.tryV3("s-11", e.token("s-11", signing.RoleDevice)); err == nil {
		t.Error("plain MQTT accepted on the TLS listener")
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zedge test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
