package main

// End-to-end test of the shared revocation list: two zedge processes in jwt mode on one private 3-master Redis
// Cluster. A token revoked through node A (`zedge revoke` run as its own process with node A's configuration,
// or node A's admin route) is refused by node B over REST, and node B's MQTT bridge ends the session of the
// device connected with it, while the other devices on B stay connected.

import (
	"context"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

func TestMultinodeRevokeE2E(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3)
	auth := []string{"ZEDGE_JWT_SECRET=" + e2eJWTSecret, "ZEDGE_AUTH=jwt"}
	nodes := redisNodes(t, cluster, 2, auth...)
	a, b := nodes[0], nodes[1]
	// What `zedge revoke` and `zedge token` read on node A's host: the same configuration as its serve.
	envA := append(append([]string{}, auth...), "ZEDGE_STORE=redis", "ZEDGE_REDIS_ADDRS="+strings.Join(cluster, ","),
		"ZEDGE_REDIS_CLUSTER=true", "ZEDGE_DATA_DIR="+a.dataDir, "ZEDGE_HTTP_ADDR="+a.addr)

	const leaky, steady = "th-31", "th-32"
	leakyToken := mintToken(t, envA, leaky, "device")
	steadyToken := mintToken(t, envA, steady, "device")
	member := mintToken(t, envA, "dashboard-1", "member")
	admin := mintToken(t, envA, "ops", "admin")

	post := map[string]any{"messages": []any{map[string]any{"body": map[string]any{"setpoint": 21}}}}
	postOn := func(s *server, token string) reply {
		return newClient(t, s, "campus").do("POST", "/v2/queues/cmd-ac-31/messages", post, "X-Auth-Token: "+token)
	}
	for _, s := range nodes {
		for _, tok := range []string{leakyToken, member} {
			if r := postOn(s, tok); r.status != 201 {
				t.Fatalf("%s before any revocation: %s", s.base, r)
			}
		}
		if !strings.Contains(s.stderr.String(), "redis key zedge:revocations") {
			t.Fatalf("%s's start log does not say the revocation list is in Redis:\n%s", s.base, s.stderr.String())
		}
	}

	// Both devices connect to node B and are live before the revocation, so a drop seen later is its doing.
	leakyDev, leakyDisconnects := v5Watched(t, b.mqtt, leaky, leakyToken)
	steadyDev, steadyDisconnects := v5Watched(t, b.mqtt, steady, steadyToken)
	ctx, cancel := context.WithTimeout(context.Background(), mqttWait)
	defer cancel()
	for name, dev := range map[string]*paho.Client{leaky: leakyDev, steady: steadyDev} {
		if pr, err := dev.Publish(ctx, &paho.Publish{Topic: "sensors/b1/r101/temp", QoS: 1, Payload: []byte(`{"c":21.5}`)}); err != nil || pr.ReasonCode != 0 {
			t.Fatalf("%s telemetry before the revocation: %v %+v", name, err, pr)
		}
	}

	// The real CLI, with node A's configuration: it writes the list in Redis, not a file of node A.
	zedgeOK(t, envA, "revoke", "-token", leakyToken, "-reason", "token leaked")

	wantRevokedDisconnect(t, leakyDisconnects, leaky+" on node B, its token revoked through node A's configuration,")
	pollUntil(t, "node B refuses the revoked token over REST", func() bool { return postOn(b, leakyToken).status == 401 })
	for _, s := range nodes {
		wantError401(t, postOn(s, leakyToken), "The token has been revoked.")
	}
	if _, ca, err := v5Connect(t, b.mqtt, leaky, leakyToken); err == nil || ca == nil || ca.ReasonCode != 0x86 {
		t.Errorf("%s reconnecting to node B with its revoked token: %v %+v, want CONNACK 0x86", leaky, err, ca)
	}

	// The other device on node B was re-checked in the same sweeps and stays.
	if pr, err := steadyDev.Publish(ctx, &paho.Publish{Topic: "sensors/b1/r102/temp", QoS: 1, Payload: []byte(`{"c":22}`)}); err != nil || pr.ReasonCode != 0 {
		t.Fatalf("%s telemetry after the other device's revocation: %v %+v", steady, err, pr)
	}
	select {
	case d := <-steadyDisconnects:
		t.Fatalf("%s, never revoked, got DISCONNECT %#x", steady, d.ReasonCode)
	default:
	}

	// Node A's admin route writes the same list: node B refuses the member token too.
	var claims struct {
		JTI string `json:"jti"`
	}
	decodeTokenPayload(t, member, &claims)
	newClient(t, a, "campus").do("POST", "/v2/revocations", map[string]any{"jti": claims.JTI}, "X-Auth-Token: "+admin).expect(t, 201)
	pollUntil(t, "node B refuses the token revoked through node A's admin route", func() bool { return postOn(b, member).status == 401 })
	wantError401(t, postOn(b, member), "The token has been revoked.")

	// Either node's configuration lists both entries, from the one list.
	envB := append(append([]string{}, envA...), "ZEDGE_DATA_DIR="+b.dataDir, "ZEDGE_HTTP_ADDR="+b.addr)
	list := zedgeOK(t, envB, "revoke", "-list")
	if strings.Count(list, "\n") != 2 || !strings.Contains(list, "token leaked") || !strings.Contains(list, claims.JTI) {
		t.Fatalf("revoke -list with node B's configuration:\n%s", list)
	}
}
